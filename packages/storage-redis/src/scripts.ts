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
} as const;

/**
 * Takes the writer fence: `KEYS[1]` data stream, `KEYS[2]` meta hash,
 * `ARGV[1]` the new writer's token. Makes the token the owner (a previous
 * owner's next append is refused), sets `seq` to the highest sequence seen in
 * the meta hash or the stream's last ID, and reports whether the last element
 * ends without `\n` (a torn tail).
 *
 * Reply: `{1, seq, torn}` or `{-3, type}` when the data key holds another type.
 */
export const OPEN_SCRIPT: LuaScript = script(`
local t = redis.call('TYPE', KEYS[1])['ok']
if t ~= 'stream' and t ~= 'none' then return {-3, t} end
local s = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
local torn = 0
if t == 'stream' then
  local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
  if #top > 0 then
    local ms = tonumber(string.match(top[1][1], '^(%d+)'))
    if ms > s then s = ms end
    local f = top[1][2]
    for i = 1, #f, 2 do
      if f[i] == 'd' then
        local v = f[i + 1]
        if #v > 0 and string.sub(v, -1) ~= '\\n' then torn = 1 end
      end
    end
  end
end
redis.call('HSET', KEYS[2], 'owner', ARGV[1], 'seq', string.format('%d', s), 'part', '0')
return {1, string.format('%d', s), torn}
`);

/**
 * Appends one part of one flush, fenced: `KEYS[1]` data stream, `KEYS[2]`
 * meta hash; `ARGV[1]` token, `ARGV[2]` flush sequence, `ARGV[3]` part
 * number, `ARGV[4]` index of the first element in the flush, `ARGV[5…]` the
 * elements. Each element becomes `XADD key <seq>-<index> d <element>`.
 *
 * Reply: `{1}` appended; `{0}` this part was already appended (a retry after
 * a lost reply: nothing done); `{-1, owner}` another writer owns the key;
 * `{-2, seq, part}` an earlier part is missing; `{-3, type}` wrong type.
 */
export const APPEND_SCRIPT: LuaScript = script(`
local owner = redis.call('HGET', KEYS[2], 'owner')
if owner ~= ARGV[1] then return {-1, owner or ''} end
local seq = tonumber(ARGV[2])
local part = tonumber(ARGV[3])
local s = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
local p = tonumber(redis.call('HGET', KEYS[2], 'part') or '0')
if s > seq or (s == seq and p >= part) then return {0} end
if not ((part == 0 and s == seq - 1) or (part > 0 and s == seq and p == part - 1)) then
  return {-2, string.format('%d', s), string.format('%d', p)}
end
local t = redis.call('TYPE', KEYS[1])['ok']
if t ~= 'stream' and t ~= 'none' then return {-3, t} end
local first = tonumber(ARGV[4])
for i = 5, #ARGV do
  redis.call('XADD', KEYS[1], ARGV[2] .. '-' .. string.format('%d', first + i - 5), 'd', ARGV[i])
end
redis.call('HSET', KEYS[2], 'seq', ARGV[2], 'part', ARGV[3])
return {1}
`);
