import TugAPIMachinery

extension Scheme {
    /// Every built-in resource Tugboat serves, in discovery order (core first).
    public static let builtIn = Scheme([
        // core/v1
        ResourceDefinition(group: "", version: "v1", kind: "Pod", resource: "pods", namespaced: true, shortNames: ["po"], categories: ["all"],
                           subresources: [.status(of: "Pod", group: "", version: "v1"),
                                          Subresource(name: "binding", group: "", version: "v1", kind: "Binding", verbs: ["create"]),
                                          Subresource(name: "log", group: "", version: "v1", kind: "Pod", verbs: ["get"]),
                                          Subresource(name: "exec", group: "", version: "v1", kind: "PodExecOptions", verbs: ["create", "get"]),
                                          Subresource(name: "attach", group: "", version: "v1", kind: "PodAttachOptions", verbs: ["create", "get"]),
                                          Subresource(name: "portforward", group: "", version: "v1", kind: "PodPortForwardOptions", verbs: ["create", "get"])],
                           schema: PodSchemas.pod, strategy: PodStrategy()),
        ResourceDefinition(group: "", version: "v1", kind: "Service", resource: "services", namespaced: true, shortNames: ["svc"], categories: ["all"],
                           subresources: [.status(of: "Service", group: "", version: "v1")], schema: CoreSchemas.service, strategy: ServiceStrategy()),
        ResourceDefinition(group: "", version: "v1", kind: "Endpoints", resource: "endpoints", namespaced: true, shortNames: ["ep"],
                           schema: CoreSchemas.endpoints, strategy: PlainStrategy(columns: [TableColumn("Endpoints", description: "Endpoints of the service")], cells: { ep in
                               let addresses = (ep["subsets"].arrayValue ?? []).flatMap { subset in
                                   (subset["addresses"].arrayValue ?? []).flatMap { a in
                                       (subset["ports"].arrayValue ?? [.emptyObject]).map { p in
                                           p["port"].intValue.map { "\(a["ip"].stringValue ?? ""):\($0)" } ?? (a["ip"].stringValue ?? "")
                                       }
                                   }
                               }
                               let shown = addresses.prefix(3).joined(separator: ",") + (addresses.count > 3 ? " + \(addresses.count - 3) more..." : "")
                               return [.string(addresses.isEmpty ? "<none>" : shown)]
                           })),
        ResourceDefinition(group: "", version: "v1", kind: "ConfigMap", resource: "configmaps", namespaced: true, shortNames: ["cm"],
                           schema: CoreSchemas.configMap, strategy: ConfigMapStrategy()),
        ResourceDefinition(group: "", version: "v1", kind: "Secret", resource: "secrets", namespaced: true,
                           schema: CoreSchemas.secret, strategy: SecretStrategy()),
        ResourceDefinition(group: "", version: "v1", kind: "ServiceAccount", resource: "serviceaccounts", namespaced: true, shortNames: ["sa"],
                           subresources: [Subresource(name: "token", group: "authentication.k8s.io", version: "v1", kind: "TokenRequest", verbs: ["create"])],
                           schema: CoreSchemas.serviceAccount, strategy: ServiceAccountStrategy()),
        ResourceDefinition(group: "", version: "v1", kind: "Namespace", resource: "namespaces", namespaced: false, shortNames: ["ns"],
                           verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
                           subresources: [.status(of: "Namespace", group: "", version: "v1"),
                                          Subresource(name: "finalize", group: "", version: "v1", kind: "Namespace", verbs: ["update"])],
                           schema: CoreSchemas.namespace, strategy: NamespaceStrategy()),
        ResourceDefinition(group: "", version: "v1", kind: "Node", resource: "nodes", namespaced: false, shortNames: ["no"],
                           subresources: [.status(of: "Node", group: "", version: "v1")], schema: CoreSchemas.node, strategy: NodeStrategy()),
        ResourceDefinition(group: "", version: "v1", kind: "Event", resource: "events", namespaced: true, shortNames: ["ev"],
                           schema: CoreSchemas.event, strategy: EventStrategy()),
        ResourceDefinition(group: "", version: "v1", kind: "PersistentVolumeClaim", resource: "persistentvolumeclaims", namespaced: true, shortNames: ["pvc"],
                           subresources: [.status(of: "PersistentVolumeClaim", group: "", version: "v1")],
                           schema: CoreSchemas.persistentVolumeClaim, strategy: SpecStatusStrategy(
                               columns: [TableColumn("Status"), TableColumn("Volume"), TableColumn("Capacity"), TableColumn("Access Modes"),
                                         TableColumn("StorageClass"), TableColumn("VolumeAttributesClass"),
                                         TableColumn("VolumeMode", priority: 1)],
                               cells: { pvc in
                                   let modes = (pvc["status"]["accessModes"].arrayValue ?? []).compactMap(\.stringValue).map {
                                       ["ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"][$0] ?? $0
                                   }
                                   return [.string(pvc["status"]["phase"].stringValue ?? "Pending"), .string(pvc["spec"]["volumeName"].stringValue ?? ""),
                                           .string(pvc["status"]["capacity"]["storage"].stringValue ?? ""), .string(modes.joined(separator: ",")),
                                           .string(pvc["spec"]["storageClassName"].stringValue ?? "<unset>"),
                                           .string(pvc["spec"]["volumeAttributesClassName"].stringValue ?? "<unset>"),
                                           .string(pvc["spec"]["volumeMode"].stringValue ?? "Filesystem")]
                               },
                               defaults: { pvc in PodDefaults.setIfAbsent(&pvc["spec"], "volumeMode", "Filesystem") })),
        ResourceDefinition(group: "", version: "v1", kind: "LimitRange", resource: "limitranges", namespaced: true, shortNames: ["limits"],
                           schema: PolicySchemas.limitRange, strategy: LimitRangeStrategy()),
        ResourceDefinition(group: "", version: "v1", kind: "ResourceQuota", resource: "resourcequotas", namespaced: true, shortNames: ["quota"],
                           subresources: [.status(of: "ResourceQuota", group: "", version: "v1")], schema: PolicySchemas.resourceQuota,
                           strategy: ResourceQuotaStrategy()),
        // apps/v1
        ResourceDefinition(group: "apps", version: "v1", kind: "Deployment", resource: "deployments", namespaced: true, shortNames: ["deploy"],
                           categories: ["all"], subresources: [.scale, .status(of: "Deployment", group: "apps", version: "v1")],
                           schema: AppsSchemas.deployment, strategy: DeploymentStrategy()),
        ResourceDefinition(group: "apps", version: "v1", kind: "ReplicaSet", resource: "replicasets", namespaced: true, shortNames: ["rs"],
                           categories: ["all"], subresources: [.scale, .status(of: "ReplicaSet", group: "apps", version: "v1")],
                           schema: AppsSchemas.replicaSet, strategy: ReplicaSetStrategy()),
        ResourceDefinition(group: "apps", version: "v1", kind: "StatefulSet", resource: "statefulsets", namespaced: true, shortNames: ["sts"],
                           categories: ["all"], subresources: [.scale, .status(of: "StatefulSet", group: "apps", version: "v1")],
                           schema: AppsSchemas.statefulSet, strategy: StatefulSetStrategy()),
        ResourceDefinition(group: "apps", version: "v1", kind: "DaemonSet", resource: "daemonsets", namespaced: true, shortNames: ["ds"],
                           categories: ["all"], subresources: [.status(of: "DaemonSet", group: "apps", version: "v1")],
                           schema: AppsSchemas.daemonSet, strategy: DaemonSetStrategy()),
        ResourceDefinition(group: "apps", version: "v1", kind: "ControllerRevision", resource: "controllerrevisions", namespaced: true,
                           schema: AppsSchemas.controllerRevision, strategy: PlainStrategy(columns: [
                               TableColumn("Controller", description: "Controller of the object"),
                               TableColumn("Revision", type: "integer", description: "Revision of the ControllerRevision"),
                           ], cells: { revision in
                               let owner = revision.ownerReferences.first { $0["controller"].boolValue == true }
                               let group = owner?["apiVersion"].stringValue?.split(separator: "/").dropLast().first.map { ".\($0)" } ?? ""
                               let controller = owner.map { "\(($0["kind"].stringValue ?? "").lowercased())\(group)/\($0["name"].stringValue ?? "")" } ?? "<none>"
                               return [.string(controller), .int(revision["revision"].intValue ?? 0)]
                           })),
        // batch/v1
        ResourceDefinition(group: "batch", version: "v1", kind: "Job", resource: "jobs", namespaced: true, categories: ["all"],
                           subresources: [.status(of: "Job", group: "batch", version: "v1")], schema: BatchSchemas.job, strategy: JobStrategy()),
        ResourceDefinition(group: "batch", version: "v1", kind: "CronJob", resource: "cronjobs", namespaced: true, shortNames: ["cj"], categories: ["all"],
                           subresources: [.status(of: "CronJob", group: "batch", version: "v1")], schema: BatchSchemas.cronJob, strategy: CronJobStrategy()),
        // networking.k8s.io/v1
        ResourceDefinition(group: "networking.k8s.io", version: "v1", kind: "Ingress", resource: "ingresses", namespaced: true, shortNames: ["ing"],
                           subresources: [.status(of: "Ingress", group: "networking.k8s.io", version: "v1")],
                           schema: NetworkingSchemas.ingress, strategy: SpecStatusStrategy(
                               columns: [TableColumn("Class"), TableColumn("Hosts"), TableColumn("Address"), TableColumn("Ports")],
                               cells: { ing in
                                   let hosts = (ing["spec"]["rules"].arrayValue ?? []).compactMap { $0["host"].stringValue }
                                   let address = (ing["status"]["loadBalancer"]["ingress"].arrayValue ?? []).compactMap { $0["ip"].stringValue ?? $0["hostname"].stringValue }
                                   return [.string(ing["spec"]["ingressClassName"].stringValue ?? "<none>"), .string(hosts.isEmpty ? "*" : hosts.joined(separator: ",")),
                                           .string(address.joined(separator: ",")), .string(ing["spec"]["tls"].isEmptyCollection ? "80" : "80, 443")]
                               },
                               // `status: {loadBalancer: {}}` from the start, as upstream shows a new Ingress.
                               defaults: { ing in if ing["status"]["loadBalancer"].isNull { ing["status"]["loadBalancer"] = .emptyObject } })),
        ResourceDefinition(group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", resource: "networkpolicies", namespaced: true,
                           shortNames: ["netpol"], schema: NetworkPolicySchemas.networkPolicy, strategy: NetworkPolicyStrategy()),
        ResourceDefinition(group: "networking.k8s.io", version: "v1", kind: "IngressClass", resource: "ingressclasses", namespaced: false,
                           schema: NetworkingSchemas.ingressClass, strategy: PlainStrategy(
                               columns: [TableColumn("Controller"), TableColumn("Parameters")],
                               cells: { ic in [.string(ic["spec"]["controller"].stringValue ?? ""), .string(ic["spec"]["parameters"]["name"].stringValue ?? "<none>")] })),
        // certificates.k8s.io/v1
        ResourceDefinition(group: "certificates.k8s.io", version: "v1", kind: "CertificateSigningRequest", resource: "certificatesigningrequests",
                           namespaced: false, shortNames: ["csr"],
                           subresources: [.status(of: "CertificateSigningRequest", group: "certificates.k8s.io", version: "v1"),
                                          Subresource(name: "approval", group: "certificates.k8s.io", version: "v1", kind: "CertificateSigningRequest",
                                                      verbs: ["get", "patch", "update"])],
                           schema: CertificateSchemas.certificateSigningRequest, strategy: CertificateSigningRequestStrategy()),
        // scheduling.k8s.io/v1
        ResourceDefinition(group: "scheduling.k8s.io", version: "v1", kind: "PriorityClass", resource: "priorityclasses", namespaced: false,
                           shortNames: ["pc"], schema: SchedulingSchemas.priorityClass, strategy: PriorityClassStrategy()),
        // coordination.k8s.io/v1
        ResourceDefinition(group: "coordination.k8s.io", version: "v1", kind: "Lease", resource: "leases", namespaced: true,
                           schema: ClusterSchemas.lease, strategy: PlainStrategy(
                               columns: [TableColumn("Holder", description: "The holder of the lease")],
                               cells: { l in [.string(l["spec"]["holderIdentity"].stringValue ?? "")] })),
        // discovery.k8s.io/v1
        ResourceDefinition(group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", resource: "endpointslices", namespaced: true,
                           schema: ClusterSchemas.endpointSlice, strategy: PlainStrategy(
                               columns: [TableColumn("AddressType"), TableColumn("Ports"), TableColumn("Endpoints")],
                               cells: { s in
                                   let ports = (s["ports"].arrayValue ?? []).compactMap { $0["port"].intValue.map(String.init) }
                                   let addresses = (s["endpoints"].arrayValue ?? []).flatMap { $0["addresses"].arrayValue?.compactMap(\.stringValue) ?? [] }
                                   let shown = addresses.prefix(3).joined(separator: ",") + (addresses.count > 3 ? " + \(addresses.count - 3) more..." : "")
                                   return [.string(s["addressType"].stringValue ?? ""), .string(ports.isEmpty ? "<unset>" : ports.joined(separator: ",")),
                                           .string(addresses.isEmpty ? "<unset>" : shown)]
                               })),
        // flowcontrol.apiserver.k8s.io/v1 (API Priority and Fairness)
        ResourceDefinition(group: "flowcontrol.apiserver.k8s.io", version: "v1", kind: "FlowSchema", resource: "flowschemas", namespaced: false,
                           subresources: [.status(of: "FlowSchema", group: "flowcontrol.apiserver.k8s.io", version: "v1")],
                           schema: FlowcontrolSchemas.flowSchema, strategy: FlowSchemaStrategy()),
        ResourceDefinition(group: "flowcontrol.apiserver.k8s.io", version: "v1", kind: "PriorityLevelConfiguration", resource: "prioritylevelconfigurations",
                           namespaced: false, subresources: [.status(of: "PriorityLevelConfiguration", group: "flowcontrol.apiserver.k8s.io", version: "v1")],
                           schema: FlowcontrolSchemas.priorityLevelConfiguration, strategy: PriorityLevelStrategy()),
        // events.k8s.io/v1, stored with core events
        ResourceDefinition(group: "events.k8s.io", version: "v1", kind: "Event", resource: "events", namespaced: true, shortNames: ["ev"],
                           schema: ClusterSchemas.eventsEvent, strategy: EventStrategy(), storageResource: GroupResource(group: "", resource: "events")),
    ] + RBACDefinitions.all)
}
