import type { FastifyPluginAsync } from 'fastify';
import { contactBulkRoutes } from './contact-bulk.routes.js';
import { contactExportRoutes } from './contact-export.routes.js';
import { contactLifecycleRoutes } from './contact-lifecycle.routes.js';
import { contactSearchRoutes } from './contact-search.routes.js';
import { contactWriteRoutes } from './contact-write.routes.js';
import type { Contacts } from './contacts.js';

/**
 * The contacts family, mounted under `/agentassist/api/v1/public/:streamId`, one plugin per use case. Static paths
 * (`export`, `bulk-delete`, `bulk-update`, `import-contacts`) win over `:id` in the router, so they are never read as
 * contact ids.
 */
export function contactsRoutes(contacts: Contacts): FastifyPluginAsync {
  return async (app) => {
    // Contacts are JSON only; Fastify would otherwise hand a text/plain body on as a string.
    app.removeContentTypeParser('text/plain');

    await app.register(contactWriteRoutes(contacts));
    await app.register(contactSearchRoutes(contacts));
    await app.register(contactExportRoutes(contacts));
    await app.register(contactLifecycleRoutes(contacts));
    await app.register(contactBulkRoutes(contacts));
  };
}
