import { describe, expect, it } from 'vitest';
import { checkCallRequest, checkWebsite } from '../src/guardrails';

const call = (website: unknown) => ({ toPhoneNumber: '+14155550100', objective: 'Ask about opening hours', website });

// [label, website, what the message says]
const refused: [string, string, string | RegExp][] = [
  ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data', 'points at a link-local IP address'],
  ['a 10/8 private address', 'http://10.0.0.1', 'points at a private IP address'],
  ['a 172.16/12 private address', 'http://172.16.0.1/', 'points at a private IP address'],
  ['a 192.168/16 private address with a port', 'http://192.168.1.1:8080/', 'points at a private IP address'],
  ['loopback', 'http://127.0.0.1/', 'points at a loopback IP address'],
  ['loopback written short', 'http://127.1/', 'points at a loopback IP address'],
  ['loopback as a decimal number', 'http://2130706433/', 'points at a loopback IP address'],
  ['loopback in octal', 'http://0177.0.0.1/', 'points at a loopback IP address'],
  ['loopback in hex', 'http://0x7f.1/', 'points at a loopback IP address'],
  ['loopback percent-encoded', 'http://%31%32%37.0.0.1/', 'points at a loopback IP address'],
  ['loopback with ideographic full stops', 'http://127。0。0。1/', 'points at a loopback IP address'],
  ['CGNAT', 'http://100.64.0.1/', 'points at a carrier-grade NAT IP address'],
  ['multicast', 'http://224.0.0.1/', 'points at a multicast IP address'],
  ['the unspecified address', 'http://0.0.0.0/', 'points at the unspecified IP address'],
  ['the unspecified address as 0', 'http://0/', 'points at the unspecified IP address'],
  ['the broadcast address', 'http://255.255.255.255/', 'points at the broadcast IP address'],
  ['a documentation address (TEST-NET-1)', 'http://192.0.2.1/', 'points at a reserved IP address'],
  ['a documentation address (TEST-NET-3)', 'http://203.0.113.9/', 'points at a reserved IP address'],
  ['the reserved 240/4', 'http://240.0.0.1/', 'points at a reserved IP address'],
  ['IPv6 loopback', 'http://[::1]/', 'points at a loopback IP address'],
  ['IPv6 link-local', 'http://[fe80::1]/', 'points at a link-local IP address'],
  ['IPv6 unique-local', 'http://[fc00::1]/', 'points at a unique-local IP address'],
  ['IPv6 unspecified', 'http://[::]/', 'points at the unspecified IP address'],
  ['IPv6 multicast', 'http://[ff02::1]/', 'points at a multicast IP address'],
  ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/', 'points at an IPv4-mapped IP address'],
  ['IPv4-compatible loopback', 'http://[::127.0.0.1]/', 'points at a reserved IP address'],
  ['NAT64 of loopback', 'http://[64:ff9b::7f00:1]/', 'points at a reserved IP address'],
  ['6to4 of loopback', 'http://[2002:7f00:1::]/', 'points at a reserved IP address'],
  ['IPv6 documentation', 'http://[2001:db8::1]/', 'points at a reserved IP address'],
  ['localhost', 'http://localhost/', 'names this machine (localhost)'],
  ['localhost in capitals with a trailing dot', 'http://LOCALHOST./', 'names this machine (localhost)'],
  ['localhost in full-width letters', 'https://ｌｏｃａｌｈｏｓｔ/', 'names this machine (localhost)'],
  ['a name under .localhost', 'http://api.localhost:3000/', 'names this machine (localhost)'],
  ['a single-label host', 'http://intranet/', 'has a single-label host name'],
  ['a name under .local', 'http://printer.local/', 'under .local'],
  ['a name under .internal', 'http://db.internal/', 'under .internal'],
  ['a name under .home.arpa', 'http://nas.home.arpa/', 'under .arpa'],
  ['a name with an empty label', 'http://a..example.com/', 'has an empty label'],
  ['a wildcard-DNS name for a private address', 'http://10.0.0.1.nip.io/', 'spells out a private IP address'],
  ['a dashed wildcard-DNS name for loopback', 'http://127-0-0-1.sslip.io/', 'spells out a loopback IP address'],
  ['a user name and password', 'http://user:pass@example.com', 'carries a user name or password'],
  ['a user name alone', 'https://admin@example.com/', 'carries a user name or password'],
  ['a backslash that parsers read differently', 'http://example.com\\@10.0.0.1/', 'a backslash'],
  ['a tab the URL parser would silently drop', 'http://exam\tple.com/', 'control character'],
  ['a zero-width space in the host', 'https://exa\u200bmple.com/', 'invisible'],
  ['a space in the path', 'https://example.com/a b', 'a space'],
  ['a scheme without slashes', 'http:example.com', 'does not start with http:// or https://'],
  ['three slashes', 'http:///example.com', 'does not start with http:// or https://'],
  ['a file: URL', 'file:///etc/passwd', 'uses "file:"'],
  ['a gopher: URL', 'gopher://example.com/', 'uses "gopher:"'],
  ['a data: URL', 'data:text/html,hi', 'uses "data:"'],
  ['an IPv6 zone id', 'http://[fe80::1%25eth0]/', 'is not a URL'],
  ['2,049 characters', `https://example.com/${'a'.repeat(2029)}`, 'is 2049 characters long, over the limit of 2048'],
];

describe('checkWebsite', () => {
  it.each(refused)('refuses %s', (_label, website, reason) => {
    const verdict = checkWebsite(website);
    expect(verdict).toMatchObject({ ok: false, message: expect.stringContaining(reason as string) });
    if (verdict.ok) return;
    expect(verdict.message).toMatch(/^website [^\n]+: [^\n]+\.$/);
  });

  it('has at least 40 refused addresses in its table', () => {
    expect(refused.length).toBeGreaterThanOrEqual(40);
  });

  it.each([
    'https://example.com',
    'https://acme.example/returns?lang=en',
    'HTTPS://EXAMPLE.COM/',
    'https://example.com:8443/menu#today',
    'https://münchen.de/',
    'http://1.2.3.4.nip.io/',
    'https://93.184.216.34/',
    'http://172.32.0.1/',
    'http://[2606:4700:4700::1111]/',
    'https://v1-2-3.example.com/',
  ])('accepts the public address %s and returns it as given', (website) => {
    expect(checkWebsite(website)).toEqual({ ok: true, website });
  });

  it('tells the caller to give a public website when the host is not one', () => {
    expect(checkWebsite('http://10.0.0.1')).toEqual({
      ok: false,
      message:
        'website points at a private IP address, not a public one: ' +
        'give the address of a public website, such as https://example.com.',
    });
  });

  it('never quotes the address, whose query string may carry a token', () => {
    const verdict = checkWebsite('http://user:s3cr3t-value@10.0.0.1/?token=t0ken-value');
    expect(JSON.stringify(verdict)).not.toMatch(/s3cr3t|t0ken|10\.0\.0\.1/);
  });

  it('never throws, even for a megabyte of host name', () => {
    expect(() => checkWebsite(`http://${'a.'.repeat(500_000)}com/`)).not.toThrow();
    expect(checkWebsite(`http://${'a.'.repeat(500_000)}com/`).ok).toBe(false);
  });
});

describe('checkCallRequest with a website', () => {
  it.each([
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data'],
    ['a private address', 'http://10.0.0.1'],
    ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/'],
    ['credentials', 'http://user:pass@example.com'],
  ])('refuses %s as InvalidInput on website', (_label, website) => {
    expect(checkCallRequest(call(website))).toMatchObject({ ok: false, type: 'InvalidInput', field: 'website' });
  });

  it('keeps an accepted website exactly as given, trimmed', () => {
    expect(checkCallRequest(call('  https://acme.example/menu  '))).toMatchObject({
      ok: true,
      request: { website: 'https://acme.example/menu' },
    });
  });
});
