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
    const config = loadConfig({
      PORT: '9000',
      DATABASE_URL: 'postgres://u@db:5432/x',
      NODE_ENV: 'production',
      RUN_WORKERS: 'false',
      PUBLIC_BASE_URL: 'https://gw.example/',
    });
    expect(config).toMatchObject({
      port: 9000,
      databaseUrl: 'postgres://u@db:5432/x',
      production: true,
      runWorkers: false,
      publicBaseUrl: 'https://gw.example',
    });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['REDIS_URL', 'localhost:6379'],
    ['DATABASE_URL', 'mysql://db/x'],
    ['LOG_LEVEL', 'loud'],
    ['DELIVERY_ATTEMPTS', '0'],
    ['VALIDATE_OUTPUT', 'sometimes'],
    ['HL7_DEFAULT_CHARSET', 'klingon'],
    ['MLLP_SENDERS', 'AUH-EPJ=demo-hospital;charset=ISO IR87'],
    ['MLLP_SENDERS', 'AUH-EPJ=demo-hospital;sor=Afsnit P3'],
    ['MLLP_SENDERS', 'AUH-EPJ=demo-hospital;colour=blue'],
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

  it("reads each MLLP sender's facility (a name may hold spaces), charset and department SOR", () => {
    const config = loadConfig({
      MLLP_SENDERS:
        'PSYK-EPJ|265161000016004=demo-hospital,AUH-EPJ|Aarhus Universitetshospital=demo-hospital;charset=8859/1;sor=265161000016004',
      HL7_DEFAULT_CHARSET: '8859/15',
    });
    expect(config.mllpSenders).toEqual([
      {
        application: 'PSYK-EPJ',
        facility: '265161000016004',
        clientId: 'demo-hospital',
        charset: undefined,
        sor: undefined,
      },
      {
        application: 'AUH-EPJ',
        facility: 'Aarhus Universitetshospital',
        clientId: 'demo-hospital',
        charset: '8859/1',
        sor: '265161000016004',
      },
    ]);
    expect(config.hl7DefaultCharset).toBe('8859/15');
    expect(loadConfig({}).hl7DefaultCharset).toBe('UNICODE UTF-8');
  });
});
