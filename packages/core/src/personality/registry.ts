import type { HostProfile, PersonalityHooks, PersonalityRegistry } from "../plugin-api/personality.js";

/** Plugin hooks are consulted before the built-in ones, so a plugin can refine a personality. */
export class DefaultPersonalityRegistry implements PersonalityRegistry {
  private readonly fromPlugins: Array<{ hooks: PersonalityHooks; plugin: string }> = [];

  constructor(private readonly builtins: readonly PersonalityHooks[]) {}

  register(hooks: PersonalityHooks, pluginName: string): void {
    this.fromPlugins.push({ hooks, plugin: pluginName });
  }

  forHost(host: HostProfile): PersonalityHooks {
    const found = this.fromPlugins.find((e) => e.hooks.matches(host))?.hooks ?? this.builtins.find((h) => h.matches(host));
    if (!found) {
      throw new Error(`${host.hostname}: no personality matches subfunctions '${host.subfunctions.join(",")}'`);
    }
    return found;
  }

  list() {
    return [...this.fromPlugins.map((e) => ({ name: e.hooks.name, plugin: e.plugin })), ...this.builtins.map((h) => ({ name: h.name, plugin: "@metal/core" }))];
  }
}
