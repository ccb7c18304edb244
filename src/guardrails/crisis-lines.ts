// Full-length numbers of emergency, crisis and poison-control lines, which the guard rails refuse as they refuse 911
// and 988. They look like any toll-free or subscriber number (+18002738255 is 1-800-273-TALK, +61131114 is
// Lifeline's 13 11 14), so no short-number table lists them and libphonenumber calls them valid: only a list does.
//
// Last checked: 2026-12-01, each number against its `source`, the organisation's own page that publishes it.
//
// To add a line: put an entry in its territory's group with
//   - e164: the number as the guard rails receive it, + and digits only (no trunk 0: 0800 1111 is +448001111);
//   - kind, service: the words a refusal shows ("a crisis line (Childline, GB)");
//   - territory: the ISO 3166 code of the country the line serves;
//   - source: the organisation's page that shows the number, never a directory or a news story.
// Only numbers the source shows today; voice lines only (text-only services such as Shout's 85258 are short codes,
// refused anyway). test/guardrails-crisis-lines.test.ts checks the form, that no number appears twice and that
// every entry is refused.

export type CrisisLineKind = 'crisis line' | 'poison-control line';

export interface CrisisLine {
  e164: string;
  kind: CrisisLineKind;
  service: string;
  territory: string;
  source: string;
}

const crisis = (e164: string, service: string, territory: string, source: string): CrisisLine => ({
  e164,
  kind: 'crisis line',
  service,
  territory,
  source,
});
const poison = (e164: string, service: string, territory: string, source: string): CrisisLine => ({
  e164,
  kind: 'poison-control line',
  service,
  territory,
  source,
});

export const crisisLines: readonly CrisisLine[] = [
  // United States. 988 itself is an N11 code, refused with the other short numbers of the NANP.
  // The Veterans Crisis Line is 988 or 1-800-273-8255, then 1: the same number.
  crisis('+18002738255', '988 Suicide & Crisis Lifeline', 'US', 'https://988lifeline.org/'),
  poison('+18002221222', 'Poison Help', 'US', 'https://poisonhelp.hrsa.gov/'),
  crisis('+18007997233', 'National Domestic Violence Hotline', 'US', 'https://www.thehotline.org/'),
  crisis('+18007873224', 'National Domestic Violence Hotline (TTY)', 'US', 'https://www.thehotline.org/'),
  crisis('+18006564673', 'RAINN National Sexual Assault Hotline', 'US', 'https://rainn.org/'),
  crisis('+18664887386', 'The Trevor Project', 'US', 'https://www.thetrevorproject.org/get-help/'),
  crisis('+18775658860', 'Trans Lifeline', 'US', 'https://translifeline.org/hotline/'),
  crisis(
    '+18006624357',
    "SAMHSA's National Helpline",
    'US',
    'https://www.samhsa.gov/find-help/helplines/national-helpline',
  ),
  crisis(
    '+18004874889',
    "SAMHSA's National Helpline (TTY)",
    'US',
    'https://www.samhsa.gov/find-help/helplines/national-helpline',
  ),
  crisis(
    '+18009855990',
    'Disaster Distress Helpline',
    'US',
    'https://www.samhsa.gov/find-help/helplines/disaster-distress-helpline',
  ),
  crisis('+18004224453', 'Childhelp National Child Abuse Hotline', 'US', 'https://www.childhelphotline.org/'),
  crisis('+18007862929', 'National Runaway Safeline', 'US', 'https://www.1800runaway.org/'),
  crisis('+18883737888', 'National Human Trafficking Hotline', 'US', 'https://humantraffickinghotline.org/'),
  crisis('+18663319474', 'love is respect', 'US', 'https://www.loveisrespect.org/'),
  crisis(
    '+18338526262',
    'National Maternal Mental Health Hotline',
    'US',
    'https://mchb.hrsa.gov/national-maternal-mental-health-hotline',
  ),
  crisis('+18447628483', 'StrongHearts Native Helpline', 'US', 'https://strongheartshelpline.org/'),

  // Canada. 9-8-8 is an N11 code too.
  crisis('+18334564566', '9-8-8 Suicide Crisis Helpline (formerly Talk Suicide Canada)', 'CA', 'https://988.ca/'),
  crisis('+18006686868', 'Kids Help Phone', 'CA', 'https://kidshelpphone.ca/'),
  crisis('+18552423310', 'Hope for Wellness Help Line', 'CA', 'https://www.hopeforwellness.ca/'),
  crisis('+18773306366', 'Trans Lifeline', 'CA', 'https://translifeline.org/hotline/'),
  crisis('+18662773553', '1 866 APPELLE (Québec suicide prevention)', 'CA', 'https://www.aqps.info/'),
  crisis('+18339001010', 'Canadian Human Trafficking Hotline', 'CA', 'https://www.canadianhumantraffickinghotline.ca/'),
  poison(
    '+18447647669',
    "Canada's poison centres (1-844-POISON-X)",
    'CA',
    'https://www.ontariopoisoncentre.ca/get-help/get-help-now-landing/get-help-now/',
  ),
  poison(
    '+18002689017',
    'Ontario Poison Centre',
    'CA',
    'https://www.ontariopoisoncentre.ca/get-help/get-help-now-landing/get-help-now/',
  ),
  poison(
    '+18004635060',
    'Centre antipoison du Québec',
    'CA',
    'https://www.ciusss-capitalenationale.gouv.qc.ca/antipoison/en/a-propos/contact-us',
  ),

  // United Kingdom (GB). 999, 112 and 111 are short codes, refused with the rest of GB's.
  crisis('+44116123', 'Samaritans', 'GB', 'https://www.samaritans.org/how-we-can-help/contact-samaritan/'),
  crisis(
    '+448081640123',
    'Samaritans Welsh Language Line',
    'GB',
    'https://www.samaritans.org/how-we-can-help/contact-samaritan/',
  ),
  crisis('+448001111', 'Childline', 'GB', 'https://www.childline.org.uk/get-support/contacting-childline/'),
  crisis(
    '+448088005000',
    'NSPCC Helpline',
    'GB',
    'https://www.nspcc.org.uk/keeping-children-safe/our-services/nspcc-helpline/',
  ),
  crisis('+448082000247', 'National Domestic Abuse Helpline', 'GB', 'https://www.nationaldahelpline.org.uk/'),
  crisis('+44800585858', 'CALM (Campaign Against Living Miserably)', 'GB', 'https://www.thecalmzone.net/'),
  crisis('+448000684141', 'PAPYRUS HOPELINE247', 'GB', 'https://www.papyrus-uk.org/'),
  crisis('+448085002222', 'Rape Crisis 24/7 Support Line', 'GB', 'https://rapecrisis.org.uk/get-help/'),
  crisis('+448088010327', "Men's Advice Line", 'GB', 'https://mensadviceline.org.uk/'),
  crisis(
    '+448009995428',
    'National LGBT+ Domestic Abuse Helpline (Galop)',
    'GB',
    'https://galop.org.uk/get-help/helplines/',
  ),
  crisis('+448000271234', "Scotland's Domestic Abuse and Forced Marriage Helpline", 'GB', 'https://sdafmh.org.uk/'),
  crisis('+44800838587', 'Breathing Space', 'GB', 'https://breathingspace.scot/'),
  crisis('+448088088000', 'Lifeline (Northern Ireland)', 'GB', 'https://www.lifelinehelpline.info/'),

  // Ireland. 112 and 999 are short codes.
  crisis(
    '+353116123',
    'Samaritans Ireland',
    'IE',
    'https://www.samaritans.org/ireland/how-we-can-help/contact-samaritan/',
  ),
  crisis('+3531800247247', 'Pieta', 'IE', 'https://www.pieta.ie/'),
  crisis('+3531800666666', 'Childline (ISPCC)', 'IE', 'https://www.childline.ie/'),
  crisis('+3531800341900', "Women's Aid 24hr National Freephone Helpline", 'IE', 'https://www.womensaid.ie/'),
  crisis('+3531800778888', 'Dublin Rape Crisis Centre', 'IE', 'https://www.drcc.ie/'),
  poison('+35318092166', 'National Poisons Information Centre public line', 'IE', 'https://poisons.ie/public/'),

  // Australia. 000, 112 and 106 are short codes.
  crisis('+61131114', 'Lifeline', 'AU', 'https://www.lifeline.org.au/'),
  crisis('+611800551800', 'Kids Helpline', 'AU', 'https://kidshelpline.com.au/'),
  crisis('+611300224636', 'Beyond Blue', 'AU', 'https://www.beyondblue.org.au/'),
  crisis('+611800737732', '1800RESPECT', 'AU', 'https://www.1800respect.org.au/'),
  crisis('+611300659467', 'Suicide Call Back Service', 'AU', 'https://www.suicidecallbackservice.org.au/'),
  crisis('+611300789978', 'MensLine Australia', 'AU', 'https://mensline.org.au/'),
  crisis('+611800184527', 'QLife', 'AU', 'https://qlife.org.au/'),
  crisis('+61139276', '13YARN', 'AU', 'https://www.13yarn.org.au/'),
  crisis('+611800011046', 'Open Arms – Veterans & Families Counselling', 'AU', 'https://www.openarms.gov.au/'),
  poison('+61131126', 'Poisons Information Centre', 'AU', 'https://www.poisonsinfo.nsw.gov.au/'),

  // New Zealand. 111 is a short code.
  crisis('+641737', 'Need to talk? 1737', 'NZ', 'https://1737.org.nz/'),
  crisis('+64800543354', 'Lifeline Aotearoa', 'NZ', 'https://www.lifeline.org.nz/'),
  crisis('+64508828865', 'Suicide Crisis Helpline', 'NZ', 'https://www.lifeline.org.nz/'),
  crisis('+64800376633', 'Youthline', 'NZ', 'https://www.youthline.co.nz/'),
  crisis('+64800733843', "Women's Refuge crisis line", 'NZ', 'https://womensrefuge.org.nz/'),
  poison('+64800764766', 'National Poisons Centre', 'NZ', 'https://www.poisons.co.nz/'),
];
