/** See browser-bundle.mjs: the files a browser bundle of `entry` holds, and the Node-only things it reaches. */
export function browserBundleReport(entry: URL | string): Promise<{ modules: string[]; nodeOnly: string[] }>;
