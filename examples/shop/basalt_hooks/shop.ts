// The e-commerce example of the README (tested by test/api/shop-example.test.ts).
// Collections: products {name, stock (number, min 0)} and orders {product (relation), quantity, email}.
import { ApiError, BadRequestError, defineHooks, requireSuperuserAuth } from 'basalt';

interface Confirmation {
  orderId: string;
}

export default defineHooks((app) => {
  // An order takes its quantity out of the product's stock, inside the order's own transaction:
  // both are written, or neither.
  app.onRecordCreate(async (e) => {
    const quantity = e.record.getInt('quantity');
    try {
      // The `-` modifier subtracts; the stock field's `min: 0` refuses a negative result. The
      // update locks the product row, so concurrent orders for the last item queue up.
      await e.app.records('products').update(e.record.getString('product'), { 'stock-': quantity });
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) {
        throw new BadRequestError('Failed to create record.', {
          quantity: { code: 'validation_out_of_stock', message: 'Not enough stock left for this order.' },
        });
      }
      throw err;
    }
    await e.next();
    // Enqueued in the same transaction: the mail goes out only if the order commits.
    await e.app.jobs.enqueue('send-confirmation', { orderId: e.record.id } satisfies Confirmation);
  }, 'orders');

  app.jobs.define(
    'send-confirmation',
    async ({ payload, app }) => {
      const { orderId } = payload as Confirmation;
      const order = await app.records('orders').getOne(orderId, { expand: 'product' });
      const product = (order.expand as { product: { name: string } }).product;
      await app.sendMail({
        to: String(order.email),
        subject: `Your order ${orderId}`,
        text: `Thank you! ${String(order.quantity)} × ${product.name} are on their way.`,
        html: `<p>Thank you! ${String(order.quantity)} × <b>${product.name}</b> are on their way.</p>`,
      });
    },
    { maxAttempts: 5 },
  );

  // A route of your own next to /api/…, with the caller's auth resolved as for the built-in ones.
  app.routerAdd(
    'GET',
    '/api/shop/low-stock',
    async (e) => e.app.records('products').getList(1, 50, { filter: 'stock < {:n}', params: { n: 5 }, sort: 'stock' }),
    requireSuperuserAuth(),
  );

  // Once per cluster at 03:00 Paris time, whatever the number of nodes.
  app.cronAdd(
    'restock-report',
    '0 3 * * *',
    async ({ app }) => {
      const soldOut = await app.records('products').getList(1, 100, { filter: 'stock = 0' });
      app.logger.info({ soldOut: soldOut.totalItems }, 'restock report');
    },
    { timezone: 'Europe/Paris' },
  );
});
