/** Where a mistake in the user's input was found: shared by engine errors and worker failures. */
export interface Place {
  file?: string;
  /** A JSON key path in a config, like `num_heads` or `layers[2].window`. */
  key?: string;
  /** A tensor name in a weights file. */
  tensor?: string;
}
