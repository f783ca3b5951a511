// tartan-cni: the CNI plugin binary. A runtime runs it with CNI_* in the environment and the
// network configuration on stdin; see tartan/cni/cni.hpp.
#include "tartan/cni/cni.hpp"

int main() { return tartan::cni::runMain(); }
