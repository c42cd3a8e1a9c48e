/**
 * A typed DI token: a unique symbol that remembers the type it resolves to, so
 * `container.resolve(Tokens.Clock)` is typed without a cast at the call site.
 */
export type Token<T> = symbol & { readonly __resolves?: T };

export function token<T>(name: string): Token<T> {
  return Symbol.for(`metal:${name}`) as Token<T>;
}

/** The part of a tsyringe container plugins and core use; keeps plugin code free of tsyringe imports. */
export interface ServiceContainer {
  register<T>(token: Token<T>, provider: { useValue: T } | { useFactory: (c: ServiceContainer) => T }): unknown;
  resolve<T>(token: Token<T>): T;
  isRegistered<T>(token: Token<T>, recursive?: boolean): boolean;
  createChildContainer(): ServiceContainer;
}
