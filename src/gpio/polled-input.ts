import type { DigitalInput, InputTiming, LineReader } from './input.js';

/**
 * An input sampled by polling and debounced here. A changed level must read the same for
 * `debounceMs` before it counts: a contact that bounces back within that time is no change,
 * and five toggles within 20 ms are at most one (field case G4).
 *
 * Why polling rather than onoff's `watch` (epoll on the value file's edge interrupts): the
 * barrier sensor and the exit button change a few times a minute at most, and reading every
 * 20 ms (50 Hz) catches anything a person or a barrier arm can do, at a negligible cost. Epoll
 * also needs the kernel's GPIO value file; it cannot be exercised on a fake sysfs tree of
 * regular files, where polling runs the very code a Pi runs.
 */
export class PolledInput implements DigitalInput {
  private timer: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private stable: boolean | undefined;
  private candidate: boolean | undefined;
  private onChange: (active: boolean) => void = () => undefined;

  constructor(
    private readonly reader: LineReader,
    private readonly timing: InputTiming,
  ) {}

  async start(onChange: (active: boolean) => void): Promise<boolean> {
    this.onChange = onChange;
    this.reader.open();
    const initial = this.readActive();
    this.stable = initial;
    this.candidate = initial;
    this.timer = setInterval(() => this.sample(), this.timing.pollMs);
    return initial;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.settle);
    this.timer = undefined;
    this.settle = undefined;
    this.reader.close();
  }

  isActive(): boolean | undefined {
    return this.stable;
  }

  private readActive(): boolean {
    return this.reader.read() === this.timing.activeLevel;
  }

  /** One reading: a level unlike the last one (re)starts the settling time. */
  private sample(): void {
    let active: boolean;
    try {
      active = this.readActive();
    } catch {
      return; // a failed read is no reading; the next one comes in pollMs
    }
    if (active === this.candidate) return;
    this.candidate = active;
    clearTimeout(this.settle);
    this.settle = undefined;
    if (active === this.stable) return; // it bounced back before it settled: no change
    if (this.timing.debounceMs === 0) {
      this.commit(active);
      return;
    }
    this.settle = setTimeout(() => this.commit(active), this.timing.debounceMs);
  }

  private commit(active: boolean): void {
    this.settle = undefined;
    if (active === this.stable) return;
    this.stable = active;
    this.onChange(active);
  }
}
