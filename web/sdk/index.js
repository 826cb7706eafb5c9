// The meetmesh browser SDK: import this module (no build step) and either drop in the element
//   <meetmesh-room number="…"></meetmesh-room>
// or drive a Room yourself:
//   const room = await join({ number, displayName, stream });
// See README.md, "Browser client and embeddable SDK".

export { GraphQLClient, GraphQLError } from "./graphql.js";
export { MediaSession } from "./media.js";
export { Room, join } from "./room.js";
export { MeetMeshRoomElement } from "./element.js";
export { BackgroundEffect, BUILTIN_BACKGROUNDS } from "./background.js";

export const VERSION = "0.1.0";
