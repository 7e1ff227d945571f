import { parse } from 'yaml';
import { applyLimitSettings, type EnsureCondition, type LimitSetting } from '../../config/limits';
import { vusOverrides } from './vus-override';

/**
 * The runner's settings that plain Artillery cannot read from the environment (users per step,
 * gate limits) reach Artillery through its own `--overrides`: the one way the YAML's numbers change.
 */
export interface ScenarioOverrides {
  /** The `--overrides` object, or undefined when the YAML runs as written. */
  overrides: Record<string, unknown> | undefined;
  /** Limits whose number the run replaced, by setting (for the console and the manifest). */
  limits: Partial<Record<LimitSetting, number>>;
  problems: string[];
}

export interface OverrideRequest {
  scriptText: string;
  /** Scenario name (limits apply by name). */
  scenario: string;
  profile: string;
  env: Record<string, string | undefined>;
  /** The scenario's users-per-step setting (e.g. LLM_VUS), when it has one. */
  vusSetting?: string;
  /**
   * The shared publish-metrics config (config/publish-metrics.yml) as text, when
   * publishing is on: added as an override, exactly what distributed runs (Fargate, ACI, Lambda)
   * receive too, since their bundler cannot take `--config`.
   */
  publishMetricsConfig?: string;
}

function ensureConditionsOf(scriptText: string): EnsureCondition[] {
  const script = parse(scriptText) as { config?: { ensure?: { conditions?: unknown } } } | null;
  const conditions = script?.config?.ensure?.conditions;
  if (!Array.isArray(conditions)) return [];
  return conditions.filter(
    (c): c is EnsureCondition => typeof c === 'object' && c !== null && typeof c.expression === 'string',
  );
}

export function scenarioOverrides(request: OverrideRequest): ScenarioOverrides {
  const problems: string[] = [];
  let config: Record<string, unknown> = {};

  const vusText = request.vusSetting ? request.env[request.vusSetting] : undefined;
  if (request.vusSetting && vusText !== undefined && vusText !== '') {
    if (!/^\d+$/.test(vusText) || Number(vusText) < 1)
      problems.push(
        `${request.vusSetting}: must be a whole number of users, at least 1 (got ${JSON.stringify(vusText)})`,
      );
    else {
      const phases = vusOverrides(
        request.scriptText,
        request.profile,
        Number(vusText),
        `${request.vusSetting}=${vusText}`,
      ) as { config: Record<string, unknown> } | undefined;
      if (phases) config = { ...config, ...phases.config };
      else
        problems.push(
          `${request.vusSetting}: the ${request.profile} phases of ${request.scenario} have no arrivalCount to set`,
        );
    }
  }

  const conditions = ensureConditionsOf(request.scriptText);
  const limits = applyLimitSettings(conditions, request.scenario, request.env);
  problems.push(...limits.problems);
  if (Object.keys(limits.applied).length > 0)
    config = { ...config, ensure: { conditions: limits.conditions } };

  if (request.publishMetricsConfig !== undefined) {
    const shared = parse(request.publishMetricsConfig) as {
      config?: { plugins?: Record<string, unknown> };
    } | null;
    const reporters = shared?.config?.plugins?.['publish-metrics'];
    if (Array.isArray(reporters)) config = { ...config, plugins: { 'publish-metrics': reporters } };
    else problems.push('config/publish-metrics.yml: no config.plugins.publish-metrics list');
  }

  return {
    overrides: Object.keys(config).length > 0 ? { config } : undefined,
    limits: limits.applied,
    problems,
  };
}
