/** A problem with what the user gave us: the message says what is wrong and how to fix it. */
export class InputError extends Error {
  override name = 'InputError';
}

/** WebGPU is missing, the device was lost, or the problem exceeds the device's limits. */
export class DeviceError extends Error {
  override name = 'DeviceError';
}

/** Training produced a non-finite loss or centre (docs/math.md section 6 with too large a step size). */
export class DivergenceError extends Error {
  override name = 'DivergenceError';
  constructor(readonly step: number, message: string) {
    super(message);
  }
}
