// What `import … from 'basalt'` gives a hook file: the exports of the Basalt that is running it
// (set by its hook loader), so a hooks directory needs no node_modules of its own and hook code
// shares the running server's classes (ApiError…). Generated names: keep in step with
// src/public-api.ts (a test checks).
const rt = globalThis[Symbol.for('basalt.runtime')];
if (!rt) throw new Error("'basalt' can only be imported by hook files that Basalt itself loads (or install the basalt package)");
export const {
  defineHooks,
  createBasalt,
  ApiError,
  BadRequestError,
  UnauthorizedError,
  ForbiddenError,
  NotFoundError,
  TooManyRequestsError,
  InternalServerError,
  requireAuth,
  requireSuperuserAuth,
  requireSuperuserOrOwnerAuth,
  requireGuestOnly,
  bodyLimit,
  FailJobNow,
  RetryJobLater,
} = rt;
export default rt;
