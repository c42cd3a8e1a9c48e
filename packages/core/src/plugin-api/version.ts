/** The plugin contract version this core implements. A plugin declaring any other version is refused. */
export const PLUGIN_API_VERSION = 1;
export const SUPPORTED_PLUGIN_API_VERSIONS: readonly number[] = [1];
