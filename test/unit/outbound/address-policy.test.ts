import { addressClass, connectionRefusal, outboundPolicy, urlRefusal } from '../../../src/outbound/address-policy';
import { loadConfig } from '../../../src/config';

/** The outbound address policy (which addresses the gateway sends to on someone's behalf), table-driven. */
describe('outbound address policy', () => {
  const base = { publicBaseUrl: 'https://sektorbro.region.dk', port: 8080 };
  const strict = outboundPolicy({ ...base, allowPrivate: false, allow: [] });
  const lenient = outboundPolicy({ ...base, allowPrivate: true, allow: [] });
  const listed = outboundPolicy({
    ...base,
    allowPrivate: false,
    allow: ['10.20.0.0/16', 'fd00:1::/32', 'ehr.internal'],
  });

  it.each([
    ['8.8.8.8', 'public'],
    ['2a00:1450:4001::1', 'public'],
    ['127.0.0.1', 'private'],
    ['::1', 'private'],
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.1.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['::ffff:127.0.0.1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['0.0.0.0', 'never'],
    ['::', 'never'],
    ['224.0.0.251', 'never'],
    ['ff02::1', 'never'],
    ['255.255.255.255', 'never'],
    ['192.0.2.1', 'special'],
    ['64:ff9b::7f00:1', 'special'],
    ['2002:7f00:1::', 'special'],
    ['::7f00:1', 'special'],
  ])('classes %s as %s', (address, kind) => {
    expect(addressClass(address)).toBe(kind);
  });

  it.each([
    ['http://127.0.0.1:9000/x', 'refused', 'allowed'],
    ['http://localhost:9000/x', 'refused', 'allowed'],
    ['http://[::ffff:7f00:1]:9000/x', 'refused', 'allowed'],
    ['http://2130706433:9000/x', 'refused', 'allowed'],
    ['http://169.254.169.254/', 'refused', 'refused'],
    ['http://0.0.0.0:9000/', 'refused', 'refused'],
    ['http://127.0.0.1:8080/dead-letters/$replay', 'refused', 'refused'],
    ['http://localhost:8080/', 'refused', 'refused'],
    ['https://sektorbro.region.dk/dead-letters/$replay', 'refused', 'refused'],
    ['https://SEKTORBRO.region.dk.:443/x', 'refused', 'refused'],
    ['http://sektorbro.region.dk/x', 'allowed', 'allowed'],
    ['https://gp.example.dk/fhir', 'allowed', 'allowed'],
    ['https://93.184.216.34/fhir', 'allowed', 'allowed'],
  ])('judges %s: %s by default in production, %s with OUTBOUND_ALLOW_PRIVATE', (url, inStrict, inLenient) => {
    const verdict = (p: typeof strict) => (urlRefusal(new URL(url), p) ? 'refused' : 'allowed');
    expect([verdict(strict), verdict(lenient)]).toEqual([inStrict, inLenient]);
  });

  it('opens allow-listed ranges and names, but never unspecified or multicast addresses, nor the gateway itself', () => {
    expect(connectionRefusal('10.20.3.4', 443, listed)).toBeUndefined();
    expect(connectionRefusal('::ffff:10.20.3.4', 443, listed)).toBeUndefined();
    expect(connectionRefusal('fd00:1::5', 443, listed)).toBeUndefined();
    expect(connectionRefusal('10.21.0.1', 443, listed)).toMatch(/private/);
    expect(connectionRefusal('192.168.1.1', 443, listed, 'ehr.internal')).toBeUndefined();
    expect(connectionRefusal('192.168.1.1', 443, listed, 'other.internal')).toMatch(/private/);
    expect(connectionRefusal('0.0.0.0', 443, listed, 'ehr.internal')).toMatch(/unspecified/);
    expect(connectionRefusal('127.0.0.1', 8080, lenient)).toMatch(/gateway itself/);
    expect(connectionRefusal('127.0.0.1', 8081, lenient)).toBeUndefined();
  });

  it('stops start-up on a bad OUTBOUND_ALLOW entry, naming the variable', () => {
    expect(() => loadConfig({ OUTBOUND_ALLOW: '10.0.0.0/33' })).toThrow(/OUTBOUND_ALLOW: "10.0.0.0\/33"/);
    expect(() => loadConfig({ OUTBOUND_ALLOW: 'bad_host!' })).toThrow(/OUTBOUND_ALLOW/);
    expect(loadConfig({ OUTBOUND_ALLOW: '10.20.0.0/16,ehr.internal' }).outbound.allow).toEqual([
      '10.20.0.0/16',
      'ehr.internal',
    ]);
  });

  it('refuses private addresses by default in production and allows them by default elsewhere', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).outbound).toMatchObject({ allowPrivate: false });
    expect(loadConfig({}).outbound).toMatchObject({ allowPrivate: true, allowPrivateByDefault: true });
    expect(loadConfig({ OUTBOUND_ALLOW_PRIVATE: 'false' }).outbound).toMatchObject({ allowPrivate: false });
    expect(loadConfig({ NODE_ENV: 'production', OUTBOUND_ALLOW_PRIVATE: 'true' }).outbound).toMatchObject({
      allowPrivate: true,
      allowPrivateByDefault: false,
    });
  });
});
