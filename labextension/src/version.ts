/**
 * The widget module's name and semver range, as named by the Python side's `_model_module(_version)`.
 * Kept equal to package.json's `name`/`version` (a test checks).
 */
export const MODULE_NAME = 'meshprogress-nb';
export const MODULE_VERSION = '0.1.0';
