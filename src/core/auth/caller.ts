/** Who is calling, as established from a bearer token or a client certificate. */
export interface Caller {
  name: string;
  groups: string[];
}
