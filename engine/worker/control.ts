/** How a long request checks for cancellation and reports progress (between steps). */
export interface Control {
  cancelled(): boolean;
  progress(message: string, fraction?: number): void;
}

/** A request nobody cancels and whose progress nobody shows (tests, scripts). */
export const NO_CONTROL: Control = { cancelled: () => false, progress: () => {} };
