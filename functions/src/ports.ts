/**
 * The interfaces the core needs from the outside world. Adapters in ./adapters implement them,
 * each against a real service and (where a contract suite proves them equal) in memory.
 */
export {};
