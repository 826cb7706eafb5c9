// The pages' GraphQL client and the signed-in session (access token in localStorage, as the SDK element reads it).
import { GraphQLClient } from "../sdk/graphql.js";

const TOKEN = "meetmesh.accessToken";
const REFRESH = "meetmesh.refreshToken";

export const gql = new GraphQLClient(location.origin, localStorage.getItem(TOKEN));

export function saveSession(auth) {
  gql.token = auth.accessToken;
  localStorage.setItem(TOKEN, auth.accessToken);
  localStorage.setItem(REFRESH, auth.refreshToken);
  localStorage.setItem("meetmesh.displayName", auth.user.displayName);
}

export async function signOut() {
  const refresh = localStorage.getItem(REFRESH);
  if (refresh) {
    try {
      await gql.request(`mutation($r: String!) { logOut(refreshToken: $r) }`, { r: refresh });
    } catch {
      /* already invalid: signing out locally is what matters */
    }
  }
  gql.token = null;
  localStorage.removeItem(TOKEN);
  localStorage.removeItem(REFRESH);
}

/** The path of a link on this server (invite links are absolute; pages navigate within the origin). */
export const localPath = (url) => {
  const u = new URL(url, location.origin);
  return u.pathname + u.search;
};
