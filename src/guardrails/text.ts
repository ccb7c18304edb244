// Lengths as a person counts them. JavaScript's `length` counts UTF-16 code units, so one emoji is 2: limits and
// messages use code points instead, and cuts never split a surrogate pair into two halves of nothing.

/** The number of code points in `text`: 2,000 emoji are 2,000 characters, not 4,000. */
export function characterCount(text: string): number {
  let count = 0;
  // Counted in a loop rather than with [...text].length, which would build an array the size of a hostile input.
  for (const _ of text) count++;
  return count;
}

/** The first `count` code points of `text`, reading no more of it than they can take. */
export function firstCharacters(text: string, count: number): string {
  // Each code point is at most 2 code units, so 2 × count units hold `count` whole code points: a pair cut at the
  // end of the slice lies beyond them.
  return [...text.slice(0, 2 * count)].slice(0, count).join('');
}
