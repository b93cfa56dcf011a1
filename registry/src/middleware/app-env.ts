// The Hono environment shared by routes: who is calling, and the validated JSON body.
export type Principal = { kind: 'admin' } | { kind: 'publisher'; namespace: string; tokenId: string };

export interface AppEnv {
  Variables: {
    principal: Principal;
    body: unknown;
  };
}
