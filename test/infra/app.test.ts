import { describe, expect, it } from 'vitest';
import { appContext } from '../../infra/lib/app';
import { stageSettings } from '../../infra/lib/stage';

describe('appContext', () => {
  it('defaults to the dev stage', () => {
    expect(appContext.parse({})).toEqual({ stage: 'dev' });
  });

  it('splits and trims the CORS origins given as one -c value', () => {
    const context = appContext.parse({
      stage: 'prod',
      corsAllowOrigins: 'https://a.example, https://b.example,',
    });

    expect(context.corsAllowOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  it('refuses an alarm email that is not one', () => {
    expect(() => appContext.parse({ alarmEmail: 'ops at example' })).toThrow();
  });
});

describe('stageSettings', () => {
  it('protects only prod', () => {
    expect(stageSettings('prod')).toMatchObject({
      isProduction: true,
      deletionProtection: true,
      pointInTimeRecovery: true,
    });
    expect(stageSettings('pr-42')).toMatchObject({
      isProduction: false,
      deletionProtection: false,
      pointInTimeRecovery: false,
    });
  });

  it('refuses names that cannot be part of a resource name', () => {
    expect(() => stageSettings('Prod')).toThrow();
    expect(() => stageSettings('a'.repeat(21))).toThrow();
  });
});
