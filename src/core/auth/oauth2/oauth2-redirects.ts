/**
 * `/api/oauth2-redirect` (spec §1.3): the provider sends the browser back with `{state, code,
 * error}`, and the message goes to the realtime client whose id is `state` (the SDK's
 * `authWithOAuth2` waits for it on the `@oauth2` topic). The realtime service registers itself
 * as the target; until one is registered, or when no live client has that id, nothing is
 * delivered and the browser lands on the failure page — an unknown state is refused.
 */

export interface OAuth2RedirectMessage {
  state: string;
  code: string;
  error?: string;
}

export interface OAuth2RedirectTarget {
  /** Sends the message to the client `clientId` subscribed to `@oauth2`; false when there is none. */
  deliver(clientId: string, message: OAuth2RedirectMessage): boolean | Promise<boolean>;
}

export class OAuth2Redirects {
  private target: OAuth2RedirectTarget | null = null;

  setTarget(target: OAuth2RedirectTarget | null): void {
    this.target = target;
  }

  async deliver(message: OAuth2RedirectMessage): Promise<boolean> {
    if (message.state === '' || message.state.length > 255 || !this.target) return false;
    return this.target.deliver(message.state, message);
  }
}
