import { join } from 'node:path';

/**
 * A contact policy file for production workers that tests start at any hour of the day: campaigns keep to their own
 * callingWindow, without their recipients' hours (tested on their own in test/recipient-hours.test.ts).
 */
export const anyHourPolicy = join(__dirname, '..', 'fixtures', 'contact-policy-campaigns-any-hour.json');
