/**
 * The signed-in superuser, following the SDK's auth store. A token of anything but a superuser
 * (an app's user on the same origin) is no session here.
 */
import type { RecordModel } from 'pocketbase';
import { pb, SUPERUSERS } from './sdk';

function currentSuperuser(): RecordModel | null {
  const record = pb.authStore.record;
  return pb.authStore.isValid && record?.collectionName === SUPERUSERS ? record : null;
}

class Session {
  record: RecordModel | null = $state(currentSuperuser());
}

export const session = new Session();

pb.authStore.onChange(() => {
  session.record = currentSuperuser();
});

/** Checks a remembered session with the server (a deleted superuser or a rotated key ends it). */
export async function refreshSession(): Promise<void> {
  if (!session.record) return;
  try {
    await pb.collection(SUPERUSERS).authRefresh({ requestKey: 'session-refresh' });
  } catch (err) {
    const status = (err as { status?: number }).status ?? 0;
    if (status === 401 || status === 403 || status === 404) pb.authStore.clear();
  }
}

export function signOut(): void {
  pb.authStore.clear();
}
