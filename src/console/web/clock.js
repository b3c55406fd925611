// @ts-check
// The broker's clock as the page sees it: its offset from this browser's, so countdowns follow the (dev) clock.

let offset = 0

/** @param {string} brokerIso the broker's `now` */
export function syncTo (brokerIso) { offset = Date.parse(brokerIso) - Date.now() }

/** The broker's `now`, ms. */
export const brokerNow = () => Date.now() + offset
