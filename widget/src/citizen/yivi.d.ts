// The part of @privacybydesign/yivi-frontend (dist/yivi.js, untyped UMD) this page uses.
declare module "@privacybydesign/yivi-frontend" {
  interface YiviInstance {
    start(): Promise<unknown>;
    abort(): void;
  }
  interface YiviOptions {
    debugging?: boolean;
    element?: string;
    language?: "nl" | "en";
    session: {
      start: false;
      mapping: {
        sessionPtr: () => { u: string; irmaqr: string };
        frontendRequest: () => Record<string, unknown> | undefined;
      };
      result: false;
    };
  }
  const yivi: { newWeb(options: YiviOptions): YiviInstance };
  export default yivi;
}
