// file_watch.hpp — a watch on a file datastore: inotify for hand edits and other writers.
//
// inotify only says where to look: every event comes from the journal, read under the lock after
// the changed files were reconciled, so events are in revision order whichever process (or
// person) wrote. The watch covers DIR (new kind folders), every kind and namespace folder
// (folders created later are added as they appear) and DIR/.tartan, where each commit renames
// the state file. One thread per watch waits on the inotify descriptor and a stop eventfd and
// delivers the callbacks.
//
// Removals settle before they are read: `rm -r DIR` deletes files one by one before the state
// goes, and reading in the middle would deliver part of the removal of a store that is in fact
// vanishing. So after a deletion the watch waits for a short quiet spell; if the store is then
// gone, the watch ends with Unavailable, having delivered no removal at all.
#pragma once

#include "file_core.hpp"

#include <memory>

namespace tartan::datastore::file {

StoreResult<std::unique_ptr<Watch>> startWatch(std::shared_ptr<Core> core, const WatchOptions& options,
                                               WatchCallbacks callbacks);

}  // namespace tartan::datastore::file
