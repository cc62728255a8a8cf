/** `true` once `url` answers HTTP at all, whatever the status; `false` when it cannot be reached (1 s per try). */
export async function answersHttp(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}
