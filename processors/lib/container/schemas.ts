import { z } from 'zod';

/**
 * The platform's answers on the container routes (CONTRACT.md, apps/api routes/admin.go).
 * Only the fields the scenario relies on are required; everything else may come and go.
 */

/** POST /api/tenants/{id}/resume, 200. */
export const resumeAnswer = z.object({ status: z.string() });

/** POST /api/admin/tenants/{id}/suspend, 200. */
export const suspendAnswer = z.object({ status: z.string() });

/** Error bodies: `{"error": "..."}`. */
export const errorAnswer = z.object({ error: z.string() });

/**
 * tenant.container of GET /api/admin/tenants/{id}. The real API answers
 * `{"state":"not_provisioned"}` without a container and `{"state":"unknown","error":...}` when docker
 * cannot be asked, so running/health are optional; health is docker's (starting, healthy,
 * unhealthy) or "unknown" when the image has no health check.
 */
export const containerSnapshot = z.object({
  state: z.string().min(1),
  running: z.boolean().optional(),
  health: z.string().optional(),
  started_at: z.string().nullable().optional(),
});
export type ContainerSnapshot = z.infer<typeof containerSnapshot>;

export const adminTenantAnswer = z.object({
  tenant: z.object({ id: z.string().optional(), container: containerSnapshot }),
});
