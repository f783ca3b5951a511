// src/lab/lab_internal.hpp — what lab.cpp (up) and pods.cpp (the pod commands) share.
#pragma once

#include "lab_file.hpp"
#include "state.hpp"
#include "tartan/model/model.hpp"

#include <vector>

namespace tartan::lab {

// Applies resources to the lab's datastore in one transaction.
Result<void> writeResources(const std::string& stateDir, const std::vector<model::Resource>& resources);

// Adds a pod to the lab `state` describes: its sandbox namespace, its resources, the CNI chain's
// ADD on its node, its echo server. The pod is recorded before anything is made.
Result<void> addPodTo(State& state, const LabPod& pod);

}  // namespace tartan::lab
