// ms 2.x ships no types. Only what this package calls is declared; no `StringValue`, so the SDK's own `Duration`
// type (which imports it) keeps the shape it has without these declarations.
declare module 'ms' {
  /** Milliseconds in a duration such as '10s' or '2 minutes'; NaN when it is not one. */
  function ms(value: string): number;
  export = ms;
}
