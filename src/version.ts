/** dlc's version, as package.json gives it: shown by `dlc --version` and written into exported models' metadata. */
export const VERSION = '0.1.0';
