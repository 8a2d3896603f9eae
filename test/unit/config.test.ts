import { ConfigError, loadConfig } from '../../src/config';

describe('configuration', () => {
  it('runs on embedded defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      redisUrl: 'redis://127.0.0.1:6379',
      databaseUrl: undefined,
      dataDir: './data',
      publicBaseUrl: 'http://localhost:8080',
      production: false,
      validateOutput: 'fhir-input',
      delivery: { attempts: 8, backoffMs: 2000 },
    });
  });

  it('reads and coerces the environment', () => {
    const config = loadConfig({ PORT: '9000', DATABASE_URL: 'postgres://u@db:5432/x', NODE_ENV: 'production', RUN_WORKERS: 'false', PUBLIC_BASE_URL: 'https://gw.example/' });
    expect(config).toMatchObject({ port: 9000, databaseUrl: 'postgres://u@db:5432/x', production: true, runWorkers: false, publicBaseUrl: 'https://gw.example' });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['REDIS_URL', 'localhost:6379'],
    ['DATABASE_URL', 'mysql://db/x'],
    ['LOG_LEVEL', 'loud'],
    ['DELIVERY_ATTEMPTS', '0'],
    ['VALIDATE_OUTPUT', 'sometimes'],
  ])('stops start-up on a bad %s (%s), naming it', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(name);
  });
});
