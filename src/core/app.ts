/**
 * createApp(): wires the core services around a database. The result is what the HTTP layer and
 * the CLI use; it holds no HTTP or driver knowledge of its own.
 */
import { AuthService } from './auth/auth-service.js';
import { CollectionRegistry } from './collections/collection-registry.js';
import { CollectionService } from './collections/collection-service.js';
import type { Config } from './config.js';
import { EventBus } from './events/event-bus.js';
import type { Database, Logger } from './ports.js';
import { RecordReader } from './records/record-reader.js';
import { RecordWriter } from './records/record-writer.js';

export interface AppDeps {
  db: Database;
  logger: Logger;
}

export interface App {
  readonly config: Config;
  readonly db: Database;
  readonly logger: Logger;
  readonly events: EventBus;
  readonly registry: CollectionRegistry;
  readonly collections: CollectionService;
  readonly records: { reader: RecordReader; writer: RecordWriter };
  readonly auth: AuthService;
  close(): Promise<void>;
}

/** Builds the app and brings the schema up (system collections on first start). */
export async function createApp(config: Config, deps: AppDeps): Promise<App> {
  const { db, logger } = deps;
  const events = new EventBus();
  const registry = new CollectionRegistry();
  const collections = new CollectionService({ db, registry, events, logger });
  const reader = new RecordReader({ db, schema: registry });
  const writer = new RecordWriter({ db, schema: registry, events, logger });
  collections.setTruncate(async (tx, collection) => {
    const model = registry.find(collection.id);
    if (model) await writer.truncate(tx, model);
  });
  await collections.bootstrap();
  return {
    config,
    db,
    logger,
    events,
    registry,
    collections,
    records: { reader, writer },
    auth: new AuthService(db, registry),
    async close() {
      await db.close();
    },
  };
}
