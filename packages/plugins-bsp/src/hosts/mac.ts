/** MAC addresses as the PXE files name them: lower-case, `aa:bb:..` stored, `aa-bb-..` in file names. */
const MAC = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i;

/** `AA-BB-...` or `aa:bb:...` → `aa:bb:cc:dd:ee:ff`; undefined when it is not a 6-byte MAC. */
export function normalizeMac(input: string): string | undefined {
  const s = input.trim();
  if (!MAC.test(s)) return undefined;
  // Mixed separators (aa:bb-cc...) are a typo, not a MAC.
  if (s.includes(":") && s.includes("-")) return undefined;
  return s.toLowerCase().replaceAll("-", ":");
}

/** `aa:bb:cc:dd:ee:ff` → `aa-bb-cc-dd-ee-ff`. */
export function macDashes(mac: string): string {
  return mac.replaceAll(":", "-");
}

/** The per-MAC file names: the `01-` prefix is the ARP hardware type (Ethernet). */
export function pxeFileNames(mac: string): { bios: string; uefi: string; uefiCfg: string } {
  const base = `01-${macDashes(mac)}`;
  return { bios: base, uefi: `efi-${base}`, uefiCfg: `efi-${base}.cfg` };
}
