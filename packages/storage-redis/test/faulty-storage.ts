import { RedisStorage } from '../src/redis-storage.js';

/** A RedisStorage whose next flush can be made to fail once, before anything is sent. */
export class FaultyRedisStorage extends RedisStorage {
  failNext = false;

  protected override async persist(data: string): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('injected fault: this flush sent nothing');
    }
    await super.persist(data);
  }
}
