/** Types for the `base45` npm package (CommonJS, ships no types). */
declare module 'base45' {
  const base45: {
    encode(input: Uint8Array | string): string;
    decode(input: string): Buffer;
  };
  export default base45;
}
