// ISO 8601 times of epoch milliseconds, as Date.prototype.toISOString writes them. Every API
// call's audit entry carries one: formatting a Date costs a C-level printf each time, where
// the text of the current second, kept, needs only its milliseconds appended.

let secondStart = NaN;
let secondText = '';

/** new Date(ms).toISOString(), for times from 1970 to 9999. */
export function isoTime(ms: number): string {
  const intoSecond = ms - secondStart;
  if (!(intoSecond >= 0 && intoSecond < 1000)) {
    const whole = Math.floor(ms / 1000) * 1000;
    if (!(whole >= 0 && whole < 253_402_300_800_000)) return new Date(ms).toISOString();
    secondStart = whole;
    // "YYYY-MM-DDTHH:MM:SS." without the milliseconds and the Z.
    secondText = new Date(whole).toISOString().slice(0, 20);
    return isoTime(ms);
  }
  const millis = Math.floor(intoSecond);
  return `${secondText}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}
