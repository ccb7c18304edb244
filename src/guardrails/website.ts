// The agent fetches `website` before it calls, from AgentPhone's servers: an address inside a private network would
// make that fetch reach machines the caller could not reach (cloud metadata at 169.254.169.254, an intranet, the
// fetcher itself). Only addresses that name a public host are passed on. A public name that resolves to a private
// address cannot be told from here without DNS: that check belongs to whoever fetches.
import { IPv4, IPv6 } from 'ipaddr.js';
import { describeType } from './describe';
import { characterCount } from './text';

export type WebsiteVerdict = { ok: true; website: string } | { ok: false; message: string };

export const websiteMaxLength = 2048;

const example = 'https://example.com';
const giveOrLeaveOut = `give an http or https address such as ${example}, or leave website out`;
const givePublic = `give the address of a public website, such as ${example}`;

// Characters that URL parsers disagree about: the WHATWG parser reads "\" as "/" and silently drops tabs and line
// breaks, so "https://example.com\@10.0.0.1/" is example.com to it and 10.0.0.1 to others. Invisible characters would
// also show a person approving the call a different address from the one sent.
const ambiguousCharacter = /[\s\\\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/u;

// Top-level names that never reach the public internet (localhost, RFC 6761, is refused on its own): RFC 6762's local
// (mDNS), ICANN's private-use internal (2024), arpa (infrastructure, with RFC 8375's home.arpa), and names ICANN will
// never delegate or that home routers hand out (home, corp, lan, localdomain).
const privateSuffixes = new Set(['local', 'internal', 'arpa', 'home', 'corp', 'lan', 'localdomain']);

// ipaddr.js names the special-purpose range an address falls in; everything but `unicast` is refused, and ranges
// without a word here (documentation, benchmarking, 6to4, NAT64...) are "reserved".
const rangeWords: Readonly<Record<string, string>> = {
  private: 'a private',
  loopback: 'a loopback',
  linkLocal: 'a link-local',
  carrierGradeNat: 'a carrier-grade NAT',
  multicast: 'a multicast',
  unspecified: 'the unspecified',
  broadcast: 'the broadcast',
  uniqueLocal: 'a unique-local',
  ipv4Mapped: 'an IPv4-mapped',
};
// Global unicast IPv6 is 2000::/3; what ipaddr.js calls unicast outside it (such as ::7f00:1) is IANA-reserved.
const globalUnicastIPv6 = IPv6.parseCIDR('2000::/3');
// Dotted or dashed IPv4 inside a name, as wildcard DNS services resolve them: 10.0.0.1.nip.io, 127-0-0-1.sslip.io.
const embeddedIPv4 = /(?:^|[.-])(\d{1,3})[.-](\d{1,3})[.-](\d{1,3})[.-](\d{1,3})(?=$|[.-])/g;

/**
 * Decides whether `value` may be sent as the website the agent reads: an http(s) URL of a public host, no longer
 * than 2,048 characters, without credentials. Never throws. The URL is never quoted: query strings carry tokens.
 */
export function checkWebsite(value: unknown): WebsiteVerdict {
  const refuse = (problem: string, whatToDo = giveOrLeaveOut): WebsiteVerdict => ({
    ok: false,
    message: `website ${problem}: ${whatToDo}.`,
  });
  if (typeof value !== 'string') return refuse(`must be a string, not ${describeType(value)}`);
  const text = value.trim();
  const length = characterCount(text);
  if (length > websiteMaxLength) {
    return refuse(`is ${length} characters long, over the limit of ${websiteMaxLength}`, 'shorten it');
  }
  if (ambiguousCharacter.test(text)) {
    return refuse('contains a space, a backslash or an invisible or control character', 'percent-encode or remove it');
  }
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url) return refuse('is not a URL');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return refuse(`uses ${JSON.stringify(url.protocol)}, which the agent cannot fetch`);
  }
  // "http:example.com" and "http:///example.com" are example.com to the WHATWG parser, a path to others.
  if (!/^https?:\/\/[^/]/i.test(text)) return refuse('does not start with http:// or https:// and a host name');
  if (url.username !== '' || url.password !== '') {
    return refuse('carries a user name or password', 'leave credentials out of the address');
  }
  const hostProblem = findHostProblem(url.hostname);
  return hostProblem ? refuse(hostProblem, givePublic) : { ok: true, website: text };
}

/** Why the host (as the WHATWG parser normalised it) is not a public one, or undefined if it is. */
function findHostProblem(hostname: string): string | undefined {
  if (hostname.startsWith('[')) {
    const address = hostname.slice(1, -1);
    return IPv6.isValid(address) ? pointsAt(nonPublicRange(IPv6.parse(address))) : 'has an unreadable IPv6 address';
  }
  // The parser has already turned 2130706433, 0177.0.0.1 and 0x7f.1 into 127.0.0.1.
  if (IPv4.isValidFourPartDecimal(hostname)) return pointsAt(nonPublicRange(IPv4.parse(hostname)));

  const labels = hostname.replace(/\.$/, '').split('.');
  const topLevel = labels.at(-1) ?? '';
  if (topLevel === 'localhost') return 'names this machine (localhost), not a public host';
  if (labels.length < 2) return 'has a single-label host name, which only resolves inside a private network';
  if (labels.includes('')) return 'has an empty label in its host name';
  if (privateSuffixes.has(topLevel)) return `has a host name under .${topLevel}, which is not on the public internet`;
  for (const [, ...octets] of hostname.matchAll(embeddedIPv4)) {
    const dotted = octets.join('.');
    const range = IPv4.isValidFourPartDecimal(dotted) ? nonPublicRange(IPv4.parse(dotted)) : undefined;
    if (range) return `has a host name that spells out ${range}, which wildcard DNS such as nip.io resolves it to`;
  }
  return undefined;
}

const pointsAt = (range: string | undefined) => range && `points at ${range}, not a public one`;

/** "a loopback IP address", or undefined for a global unicast address. */
function nonPublicRange(address: IPv4 | IPv6): string | undefined {
  const range = address.range();
  const global = range === 'unicast' && (address.kind() === 'ipv4' || address.match(globalUnicastIPv6));
  return global ? undefined : `${rangeWords[range] ?? 'a reserved'} IP address`;
}
