// Types of scripts/entries.mjs for the TypeScript tests and benches that read the table.
export declare const ENTRIES: ReadonlyArray<readonly [subpath: string, source: string]>;
export declare const BIN: readonly [name: string, source: string];
export declare function stem(subpath: string): string;
export declare function specifier(subpath: string, name?: string): string;
export declare function packageExports(): Record<string, unknown>;
