// The orders example (examples/orders/README.md; tested by test/api/orders-scenario.test.ts).
// Collections (examples/orders/collections.json): staff (auth, role), products {name, price,
// stock}, orders {customer, product, quantity, status, expiresAt, paymentIntent} with the workflow
// pending → paid → refund_requested → refunded, and pending → expired at `expiresAt`.
import { ApiError, BadRequestError, defineHooks } from 'basalt';

/** How long an order waits for its payment before it expires by itself (seconds). */
const paymentWindowSeconds = (): number => {
  const seconds = Number(process.env.ORDER_PAYMENT_WINDOW_SECONDS ?? 1800);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 1800;
};

/** The part of a Stripe `payment_intent.succeeded` event this example reads. */
interface PaymentIntentEvent {
  data: { object: { id: string; metadata?: { orderId?: string } } };
}

export default defineHooks((app) => {
  // Placing an order reserves its stock, in the order's own transaction: both are written, or
  // neither. The order's payment deadline is set here too: the workflow's `expire` transition
  // fires by itself at `expiresAt` if the order is still pending then.
  app.onRecordCreate(async (e) => {
    const quantity = e.record.getInt('quantity');
    try {
      // `stock-` subtracts; the field's `min: 0` refuses a negative result. The update locks the
      // product's row, so concurrent orders for the last items queue up.
      await e.app.records('products').update(e.record.getString('product'), { 'stock-': quantity });
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) {
        throw new BadRequestError('Failed to create record.', {
          quantity: { code: 'validation_out_of_stock', message: 'Not enough stock left for this order.' },
        });
      }
      throw err;
    }
    e.record.set('expiresAt', new Date(Date.now() + paymentWindowSeconds() * 1000).toISOString());
    await e.next();
  }, 'orders');

  // A refunded or expired order gives its stock back, in the transition's transaction.
  app.onRecordTransition(async (e) => {
    if (e.transition.to === 'refunded' || e.transition.to === 'expired') {
      await e.app.records('products').update(e.record.getString('product'), { 'stock+': e.record.getInt('quantity') });
    }
    await e.next();
  }, 'orders');

  // Stripe calls POST /api/hooks/stripe. The signature is checked on the raw body, and each event
  // id is processed once: a redelivery is answered 200 without running this handler again.
  // Create the PaymentIntent with `metadata: { orderId }`.
  const secret = process.env.STRIPE_WEBHOOK_SECRET;
  if (!secret) {
    app.logger.warn({}, 'STRIPE_WEBHOOK_SECRET is not set: the Stripe receiver /api/hooks/stripe is disabled');
    return;
  }
  app.webhooks.receive('stripe', { verify: 'stripe', secret }, async (e) => {
    if (e.event.type !== 'payment_intent.succeeded') return; // acknowledged, nothing to do
    const intent = (e.body as PaymentIntentEvent).data.object;
    const orderId = intent.metadata?.orderId;
    if (!orderId) return;
    const order = await e.app.records('orders').getFirst('id = {:id}', { params: { id: orderId } });
    if (!order) return;
    if (order.status !== 'pending') {
      // Paid after it expired (or paid twice): acknowledge, and leave it to a person.
      e.app.logger.warn({ order: orderId, status: order.status, paymentIntent: intent.id }, 'payment for an order that is not pending');
      return;
    }
    // As Basalt itself: the `pay` transition's rule (null: superusers only) does not apply here.
    await e.app.records('orders').transition(orderId, 'pay', { paymentIntent: intent.id, comment: `Stripe ${intent.id}` });
  });
});
