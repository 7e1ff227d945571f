import { randomUUID } from 'node:crypto';
import type { TenantView } from '../control-types';

export const NEW_TENANT_CREDITS_CENTS = 1000;

export interface User {
  id: string;
  email: string;
  passwordHash: string;
  tenantId: string;
  isAdmin: boolean;
  onboardingCompleted: boolean;
  createdAt: Date;
}

export type ContainerState = 'none' | 'stopped' | 'starting' | 'running';
export type ContainerHealth = 'none' | 'starting' | 'healthy' | 'unhealthy';

export interface Container {
  state: ContainerState;
  health: ContainerHealth;
  startedAt: Date | null;
  /** When the running container passed (or will pass) its first health check. */
  readyAt: Date | null;
  /** Bumped on every lifecycle change so that timers of an older start do nothing. */
  generation: number;
}

export interface Tenant {
  id: string;
  userId: string | null;
  email: string | null;
  status: 'active' | 'paused';
  creditsCents: number;
  createdAt: Date;
  container: Container;
  tag?: string;
}

export interface Conversation {
  id: string;
  tenantId: string;
  createdAt: Date;
  messages: { role: 'user' | 'assistant'; content: string; at: Date }[];
}

export function emptyContainer(): Container {
  return { state: 'none', health: 'none', startedAt: null, readyAt: null, generation: 0 };
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** All platform state, in memory: a run starts clean. */
export class SimState {
  private users = new Map<string, User>();
  private usersByEmail = new Map<string, User>();
  private tenants = new Map<string, Tenant>();
  private conversations = new Map<string, Conversation>();

  get userCount(): number {
    return this.users.size;
  }

  get tenantCount(): number {
    return this.tenants.size;
  }

  findUserByEmail(email: string): User | undefined {
    return this.usersByEmail.get(email);
  }

  getUser(id: string): User | undefined {
    return this.users.get(id);
  }

  /** Creates the user, its tenant (active, 1000 cents, no container) in one step, like the real transaction. */
  createUserWithTenant(email: string, passwordHash: string): { user: User; tenant: Tenant } {
    const tenant = this.createTenant({ email });
    const user: User = {
      id: randomUUID(),
      email,
      passwordHash,
      tenantId: tenant.id,
      isAdmin: false,
      onboardingCompleted: false,
      createdAt: new Date(),
    };
    tenant.userId = user.id;
    this.users.set(user.id, user);
    this.usersByEmail.set(email, user);
    return { user, tenant };
  }

  createTenant(init: { email?: string | null; tag?: string } = {}): Tenant {
    const tenant: Tenant = {
      id: randomUUID(),
      userId: null,
      email: init.email ?? null,
      status: 'active',
      creditsCents: NEW_TENANT_CREDITS_CENTS,
      createdAt: new Date(),
      container: emptyContainer(),
      ...(init.tag ? { tag: init.tag } : {}),
    };
    this.tenants.set(tenant.id, tenant);
    return tenant;
  }

  getTenant(id: string): Tenant | undefined {
    return this.tenants.get(id.toLowerCase());
  }

  listTenants(): Tenant[] {
    return [...this.tenants.values()];
  }

  getConversation(tenantId: string, id: string): Conversation | undefined {
    const conversation = this.conversations.get(id.toLowerCase());
    return conversation && conversation.tenantId === tenantId ? conversation : undefined;
  }

  createConversation(tenantId: string): Conversation {
    const conversation: Conversation = { id: randomUUID(), tenantId, createdAt: new Date(), messages: [] };
    this.conversations.set(conversation.id, conversation);
    return conversation;
  }

  /**
   * Deducts an LLM call's cost; at a balance <= 0 the tenant is paused (the real proxy's
   * post-billing check). Returns the balance after billing.
   */
  bill(tenant: Tenant, cents: number): number {
    tenant.creditsCents -= cents;
    if (tenant.creditsCents <= 0) tenant.status = 'paused';
    return tenant.creditsCents;
  }
}

export function tenantView(tenant: Tenant): TenantView {
  return {
    id: tenant.id,
    email: tenant.email,
    status: tenant.status,
    creditsCents: tenant.creditsCents,
    createdAt: tenant.createdAt.toISOString(),
    container: {
      state: tenant.container.state,
      running: tenant.container.state === 'running',
      health: tenant.container.health,
      startedAt: tenant.container.startedAt?.toISOString() ?? null,
    },
  };
}
