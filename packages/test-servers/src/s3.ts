// Filled in by the storage-s3 work: startS3rver(), startMoto().
export {};
