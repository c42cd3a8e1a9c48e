import type { AlarmManager } from "../alarms/alarm-manager.js";
import type { NodeActions } from "../client/node-actions.js";
import type { NodePaths } from "../config/paths.js";
import type { MetalConfig } from "../config/schema.js";
import type { InventoryStore } from "../inventory/store.js";
import type { LoadedPlugin } from "../plugin-api/plugin.js";
import { token } from "../plugin-api/token.js";
import { PluginTokens } from "../plugin-api/tokens.js";
import type { Transport } from "../transport/transport.js";

/** Every service in the container has a typed token here (plugin-visible ones come from plugin-api). */
export const Tokens = {
  ...PluginTokens,
  Config: token<MetalConfig>("config"),
  Paths: token<NodePaths>("paths"),
  Plugins: token<readonly LoadedPlugin[]>("plugins"),
  InventoryStore: token<InventoryStore>("inventory-store"),
  Transport: token<Transport>("transport"),
  AlarmManager: token<AlarmManager>("alarm-manager"),
  NodeActions: token<NodeActions>("node-actions"),
} as const;
