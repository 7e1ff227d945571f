import { randomBytes } from 'node:crypto';
import { accountTag, testAccountEmail } from '../../config/test-accounts';
import { signUpAndLogInUser } from '../../scripts/lib/signup-seeder';
import { launchSimulator, type SimulatorProcess } from '../../scripts/lib/simulator-process';
import { SimControlClient } from '../../simulator/src/control-client';

/**
 * The simulator every bench figure but the runner's own runs against: the fast profile (server
 * time near zero, so a difference between client and server is the generator's and the loopback's),
 * tenants whose credits never run out, and a chat rate limit no load here reaches (a 429 wait is
 * not latency).
 */

export interface BenchTarget {
  sim: SimulatorProcess;
  control: SimControlClient;
  apiUrl: string;
  webUrl: string;
  serviceApiKey: string;
  tenantIds: string[];
  /** Environment for Artillery runs against this target (secrets included: child processes only). */
  artilleryEnv: Record<string, string>;
  stop(): Promise<void>;
}

const TENANTS = 100;
const UNLIMITED_CENTS = 1_000_000_000;

export async function startBenchTarget(): Promise<BenchTarget> {
  const sim = await launchSimulator({
    profile: 'fast',
    args: ['--seed-tenants', String(TENANTS), '--rate-limit', '1000000'],
  });
  try {
    const env = sim.env;
    const control = new SimControlClient(env.SIM_CONTROL_URL!, env.SIM_ADMIN_TOKEN!);
    const tenantIds = (env.TENANT_IDS ?? '').split(',').filter(Boolean);
    // A call bills at least one cent: the 1000 cents a tenant starts with would run dry within seconds at these rates.
    await Promise.all(tenantIds.map((id) => control.setCredits(id, UNLIMITED_CENTS)));
    return {
      sim,
      control,
      apiUrl: env.API_BASE_URL!,
      webUrl: env.WEB_BASE_URL!,
      serviceApiKey: env.SERVICE_API_KEY!,
      tenantIds,
      artilleryEnv: {
        API_BASE_URL: env.API_BASE_URL!,
        WEB_BASE_URL: env.WEB_BASE_URL!,
        NEXTAUTH_URL: env.NEXTAUTH_URL ?? env.WEB_BASE_URL!,
        SERVICE_API_KEY: env.SERVICE_API_KEY!,
        TENANT_IDS: tenantIds.join(','),
      },
      stop: () => sim.stop(),
    };
  } catch (error) {
    await sim.stop();
    throw error;
  }
}

export interface ChatLogin {
  /** Cookie header of a logged-in user (a secret: environment of child processes only). */
  cookie: string;
  origin: string;
}

/**
 * Signs up and logs in one web user as the chat scenario's users do (csrf → signup → csrf →
 * credentials callback → session, plain fetch), for wrk and autocannon; its tenant gets credits
 * enough for every message one user sends on behalf of all connections.
 */
export async function logInChatUser(target: BenchTarget): Promise<ChatLogin> {
  const email = testAccountEmail(accountTag('bench'), 1, randomBytes(3).toString('hex'));
  const user = await signUpAndLogInUser(target.webUrl, email).catch((error: unknown) => {
    throw new Error(`chat user login failed: ${error instanceof Error ? error.message : String(error)}`);
  });
  await target.control.setCredits(user.tenantId, UNLIMITED_CENTS);
  const cookie = user.cookies.header();
  if (!cookie) throw new Error('chat user login left no session cookie');
  return { cookie, origin: user.origin };
}
