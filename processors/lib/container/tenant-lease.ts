import { closeSync, mkdirSync, openSync, rmdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Exclusive use of a tenant for one cold cycle.
 *
 * A cold cycle suspends the tenant's container; if two users cycled the same tenant at once, one
 * would stop the container the other is timing, and both figures would be wrong. So a user leases
 * a tenant for the length of one cycle and releases it afterwards; users rotate over all tenants,
 * so every tenant is exercised and no user owns one for the whole run.
 *
 * The lease is a lock file created with O_EXCL in a folder named after Artillery's test run id:
 * Artillery may split the users over several worker threads (os.cpus() - 1), which share no
 * memory but do share the file system, so this holds across workers of one run. It does not hold
 * across separate runs or machines (distributed runs): give those disjoint TENANT_IDS.
 */
export class TenantLeases {
  private cursor = 0;

  constructor(
    private readonly dir: string,
    private readonly tenantIds: readonly string[],
  ) {}

  static forRun(testRunId: string | undefined, tenantIds: readonly string[]): TenantLeases {
    const safeId = (testRunId ?? `pid-${process.pid}`).replace(/[^A-Za-z0-9._-]/g, '_');
    return new TenantLeases(join(tmpdir(), 'agentteams-container-leases', safeId), tenantIds);
  }

  /** A free tenant, taken round-robin; undefined when every tenant is in a cycle right now. */
  tryAcquire(): string | undefined {
    for (let tried = 0; tried < this.tenantIds.length; tried++) {
      const id = this.tenantIds[(this.cursor + tried) % this.tenantIds.length]!;
      if (this.lock(id)) {
        this.cursor = (this.cursor + tried + 1) % this.tenantIds.length;
        return id;
      }
    }
    return undefined;
  }

  release(id: string): void {
    try {
      unlinkSync(this.path(id));
    } catch {
      // Already gone: nothing to release.
    }
  }

  /** Removes the run's lease folder once it is empty (another worker may still hold leases). */
  cleanup(): void {
    for (const dir of [this.dir, dirname(this.dir)]) {
      try {
        rmdirSync(dir);
      } catch {
        return; // Not empty (another worker or run holds leases) or already removed.
      }
    }
  }

  private path(id: string): string {
    return join(this.dir, `${id}.lock`);
  }

  private lock(id: string): boolean {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        closeSync(openSync(this.path(id), 'wx'));
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return false;
        if (code !== 'ENOENT') throw error;
        // The folder is created lazily and removed by cleanup(): create it and try once more.
        mkdirSync(this.dir, { recursive: true });
      }
    }
    return false;
  }
}
