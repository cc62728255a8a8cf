import { createHash } from 'node:crypto';

/** A Lua script and its SHA1, for `EVALSHA` with an `EVAL` fallback. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Reply codes of the scripts (first element of the reply array). */
export const REPLY = {
  applied: 1,
  alreadyApplied: 0,
  conflict: -1,
  gap: -2,
  wrongType: -3,
  lost: -4,
} as const;

// Every script gets the same three keys, all in one Cluster slot:
// KEYS[1] the data stream, KEYS[2] the meta hash (flush fence), KEYS[3] the
// writer lease (a string with a TTL). A conflict reply is always
// `{-1, <lease value or ''>, <lease PTTL>, <meta owner or ''>}`; a lost reply
// is `{-4, <kind>, <details>…}` with a kind of `DataLoss`.
//
// The meta hash: `owner` (token of the last writer that opened the key),
// `seq` and `part` (the last applied flush part), `data` (the last flush
// whose elements went into the stream: the stream's last ID is at least
// `<data>-0` while it holds the checkpoint), and `epoch` (a token set when the
// checkpoint is created, so a reader can tell a re-created checkpoint from
// the one it started reading).

/** The largest sequence part of a stream ID: `<ms>-MAX_SEQ` is the last ID of `<ms>`. */
const MAX_ID_SEQ = '18446744073709551615';

// The stream's last-generated-id (string), or nil when KEYS[1] is not a stream.
const LAST_ID = `
local function last_id(t)
  if t ~= 'stream' then return nil end
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then return info[i + 1] end
  end
  return nil
end
local function ms_of(id) return tonumber(string.match(id, '^(%d+)')) end
`;

/**
 * Opens the checkpoint for appending. `ARGV[1]` the writer's token, `ARGV[2]`
 * its lease value (JSON with the token, host, pid and start time), `ARGV[3]`
 * the lease TTL in ms, `ARGV[4]` `'1'` to take over a live lease.
 *
 * 1. Refuses while another writer holds a live lease (unless takeover; a
 *    re-sent open finds its own lease).
 * 2. Refuses when the checkpoint's data was lost: the meta `data` says a
 *    flush wrote to the stream, but the stream is gone or its last ID is
 *    below that flush.
 * 3. Takes the lease (`SET lease <value> PX <ttl>`).
 * 4. Finds the highest flush sequence used so far, `s`: the meta `seq`, or the
 *    stream's last ID, whichever is higher.
 * 5. Fences every earlier writer out: `XSETID key <s+1>-MAX` moves the
 *    stream's last ID past every ID an earlier writer may still send (at most
 *    `<s+1>-n`), so Redis refuses their `XADD`s. The new writer's flushes
 *    start at `s+2`. A new checkpoint (no stream yet) gets an `epoch` instead.
 * 6. Makes the token the meta `owner` with `seq = s+1`, `part = 0`, and
 *    reports whether the last element ends without `\n` (a torn tail).
 *
 * Reply: `{1, seq, torn, stream existed (1/0)}`; `{-1, holder, pttl, owner}`
 * when another writer holds a live lease; `{-3, type}` when the data key
 * holds another type; `{-4, kind, …}` when the data was lost.
 */
export const OPEN_SCRIPT: LuaScript = script(`${LAST_ID}
local t = redis.call('TYPE', KEYS[1])['ok']
if t ~= 'stream' and t ~= 'none' then return {-3, t} end
local held = redis.call('GET', KEYS[3])
if held and held ~= ARGV[2] and ARGV[4] ~= '1' then
  return {-1, held, redis.call('PTTL', KEYS[3]), redis.call('HGET', KEYS[2], 'owner') or ''}
end
local s = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
local d = tonumber(redis.call('HGET', KEYS[2], 'data') or '0')
local last = last_id(t)
if d > 0 then
  if not last then return {-4, 'stream-missing', string.format('%d', d)} end
  if ms_of(last) < d then return {-4, 'stream-behind', last, string.format('%d', d)} end
end
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
local torn = 0
if last then
  if ms_of(last) > s then s = ms_of(last) end
  local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
  if #top > 0 then
    local f = top[1][2]
    for i = 1, #f, 2 do
      if f[i] == 'd' then
        local v = f[i + 1]
        if #v > 0 and string.sub(v, -1) ~= '\\n' then torn = 1 end
      end
    end
  end
end
s = s + 1
local seq = string.format('%d', s)
if last then
  redis.call('XSETID', KEYS[1], seq .. '-${MAX_ID_SEQ}')
  redis.call('HSET', KEYS[2], 'data', seq)
else
  redis.call('HSETNX', KEYS[2], 'epoch', ARGV[1])
end
redis.call('HSET', KEYS[2], 'owner', ARGV[1], 'seq', seq, 'part', '0')
return {1, seq, torn, last and 1 or 0}
`);

/**
 * The fence in front of one part of one flush. The flush is a `MULTI` of this
 * script followed by `XADD key NOMKSTREAM <seq>-<index> d <element>` for each
 * element, sent in one round trip; the data never passes through Lua (which
 * would cost Redis about 1.7 µs per KB).
 *
 * `ARGV[1]` token, `ARGV[2]` flush sequence, `ARGV[3]` part number, `ARGV[4]`
 * the writer's lease value, `ARGV[5]` the lease TTL in ms, `ARGV[6]` the last
 * flush this writer saw go into the stream (`0` if none; the open's sequence
 * when the stream existed then).
 *
 * First the checkpoint must still be there: the meta hash exists, its `data`
 * is not below `ARGV[6]` (a server gone back to an older state), and the
 * stream exists once `data` says a flush wrote to it. Otherwise the data was
 * lost on the server (eviction, a restart without persistence, a failover,
 * `DEL`), which is reported as such, never as another writer. (A stream
 * re-created with lower IDs by hand is found by the next open, which reads
 * the stream's last ID; the fence does not, to keep `XINFO` off the flush
 * path.)
 *
 * Then the writer must still be the meta `owner`, and the lease must be its
 * own (then it is refreshed) or gone (expired, nobody took it: it is taken
 * again, which is safe because `owner` proves nobody opened the key since).
 * Then the meta hash records the part as applied; a missing stream is
 * created empty, with its last ID just below this flush's IDs, so the `XADD`s
 * after the script (`NOMKSTREAM`: they never create the stream themselves)
 * append.
 *
 * The `XADD`s run whatever the script answers; that is safe because an `XADD`
 * with an explicit ID is applied at most once (Redis refuses an ID not above
 * the stream's last ID), a writer that lost the key was fenced out by the
 * new writer's open (`XSETID`, see {@link OPEN_SCRIPT}), and every other
 * refusal moves the stream's last ID to `<seq>-MAX` first.
 *
 * Reply: `{1}` go (the part is recorded as applied); `{0}` this part was
 * already applied (a re-send: the `XADD`s are refused as duplicates);
 * `{-1, holder, pttl, owner}` another writer holds the lease or opened the key
 * since; `{-2, seq, part}` an earlier part is missing (the meta hash was
 * changed by someone else); `{-3, type}` wrong type; `{-4, kind, …}` the
 * checkpoint's data was lost.
 */
export const FENCE_SCRIPT: LuaScript = script(`${LAST_ID}
local seq = tonumber(ARGV[2])
local t = redis.call('TYPE', KEYS[1])['ok']
if t ~= 'stream' and t ~= 'none' then return {-3, t} end
-- Refusing: make sure the XADDs queued after this script cannot append.
-- (XINFO copies the first and last entries, so only refusals pay for it.)
local function block()
  local last = last_id(t)
  if last and ms_of(last) <= seq and last ~= ARGV[2] .. '-${MAX_ID_SEQ}' then
    redis.call('XSETID', KEYS[1], ARGV[2] .. '-${MAX_ID_SEQ}')
  end
end
local owner = redis.call('HGET', KEYS[2], 'owner')
if not owner then
  block()
  return {-4, 'fence-missing'}
end
local d = tonumber(redis.call('HGET', KEYS[2], 'data') or '0')
if d < tonumber(ARGV[6]) then
  block()
  return {-4, 'fence-behind', string.format('%d', d), ARGV[6]}
end
if d > 0 and t == 'none' then return {-4, 'stream-missing', string.format('%d', d)} end
local held = redis.call('GET', KEYS[3])
if owner ~= ARGV[1] or (held and held ~= ARGV[4]) then
  return {-1, held or '', redis.call('PTTL', KEYS[3]), owner}
end
if held then
  redis.call('PEXPIRE', KEYS[3], ARGV[5])
else
  redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[5])
end
local part = tonumber(ARGV[3])
local s = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
local p = tonumber(redis.call('HGET', KEYS[2], 'part') or '0')
if s > seq or (s == seq and p >= part) then return {0} end
if not ((part == 0 and s == seq - 1) or (part > 0 and s == seq and p == part - 1)) then
  block()
  return {-2, string.format('%d', s), string.format('%d', p)}
end
if t == 'none' then
  local id = string.format('%d', seq - 1) .. '-${MAX_ID_SEQ}'
  redis.call('XADD', KEYS[1], id, 'fence', ARGV[1])
  redis.call('XDEL', KEYS[1], id)
end
redis.call('HSET', KEYS[2], 'seq', ARGV[2], 'part', ARGV[3], 'data', ARGV[2])
return {1}
`);

/**
 * The lease heartbeat. `ARGV[1]` token, `ARGV[2]` lease value, `ARGV[3]` TTL
 * in ms. Extends the lease when it is this writer's; takes it again when it
 * expired and nobody wrote since (`owner` is still the token).
 *
 * Reply: `{1}` held; `{-1, holder, pttl, owner}` lost to another writer.
 */
export const REFRESH_SCRIPT: LuaScript = script(`
local held = redis.call('GET', KEYS[3])
if held == ARGV[2] then
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
  return {1}
end
local owner = redis.call('HGET', KEYS[2], 'owner')
if not held and owner == ARGV[1] then
  redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
  return {1}
end
return {-1, held or '', redis.call('PTTL', KEYS[3]), owner or ''}
`);

/**
 * Gives the lease up: deletes it only if it is still this writer's
 * (`ARGV[1]` the lease value). Reply: `{1}` deleted, `{0}` not ours (or gone).
 */
export const RELEASE_SCRIPT: LuaScript = script(`
if redis.call('GET', KEYS[3]) == ARGV[1] then
  redis.call('DEL', KEYS[3])
  return {1}
end
return {0}
`);
