{{/* The chart's name, shortened to the 63 characters Kubernetes allows in a name. */}}
{{- define "taidon.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name of the release's objects: <release>-taidon, or the release name when it already contains the chart's name. */}}
{{- define "taidon.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* name-version for the helm.sh/chart label. */}}
{{- define "taidon.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The standard labels of every object. */}}
{{- define "taidon.labels" -}}
helm.sh/chart: {{ include "taidon.chart" . }}
{{ include "taidon.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: taidon
{{- end }}

{{/* The labels that select the release's pods (add app.kubernetes.io/component). */}}
{{- define "taidon.selectorLabels" -}}
app.kubernetes.io/name: {{ include "taidon.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The name of the app's service account. */}}
{{- define "taidon.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "taidon.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An image reference from a dict {root, image, tag}: [global.imageRegistry/]repository:tag, and @digest when
the image names one (the tag stays for people and for the app, which reads the PostgreSQL major version
from the instances' tag; the digest decides what is pulled).
*/}}
{{- define "taidon.imageRef" -}}
{{- $registry := (.root.Values.global | default dict).imageRegistry | default "" | trimSuffix "/" }}
{{- $name := .image.repository }}
{{- if $registry }}
{{- $name = printf "%s/%s" $registry $name }}
{{- end }}
{{- $ref := printf "%s:%s" $name (toString .tag) }}
{{- with .image.digest }}
{{- $ref = printf "%s@%s" $ref . }}
{{- end }}
{{- $ref }}
{{- end }}

{{/* The app's image, the tag defaulting to the chart's appVersion. */}}
{{- define "taidon.image" -}}
{{- include "taidon.imageRef" (dict "root" . "image" .Values.image "tag" (default .Chart.AppVersion .Values.image.tag)) }}
{{- end }}

{{/* The bundled PostgreSQL's image. */}}
{{- define "taidon.postgresql.image" -}}
{{- include "taidon.imageRef" (dict "root" . "image" .Values.controlPlane.bundled.image "tag" .Values.controlPlane.bundled.image.tag) }}
{{- end }}

{{/* The claim that holds the data directory. */}}
{{- define "taidon.dataClaimName" -}}
{{- default (printf "%s-data" (include "taidon.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

{{/*
"true" when every app pod sees the same data directory: a claim the chart makes ReadWriteMany, or an
existing claim the values say is shared (persistence.shared); empty otherwise (an emptyDir, a
ReadWriteOnce claim).
*/}}
{{- define "taidon.sharedData" -}}
{{- with .Values.persistence }}
{{- if and .enabled (ternary .shared (has "ReadWriteMany" .accessModes) (not (empty .existingClaim))) }}true{{ end }}
{{- end }}
{{- end }}

{{/*
"true" when the app's pods may overlap (rolling updates): instances run in pods of their own (runtime
kubernetes), the control-plane database outside the app's pods, and the data directory is shared.
*/}}
{{- define "taidon.rollingUpdate" -}}
{{- if and (eq .Values.runtime "kubernetes") (ne .Values.controlPlane.mode "embedded") (include "taidon.sharedData" .) }}true{{ end }}
{{- end }}

{{/*
The annotations of an object: the chart's (a dict) under the user's (a dict), the user's winning. The
argument is a dict {chart, user}.
*/}}
{{- define "taidon.annotations" -}}
{{- $annotations := merge (dict) (deepCopy (.user | default dict)) (.chart | default dict) }}
{{- with $annotations }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{/* The bundled PostgreSQL's name (its StatefulSet, Service and Secret). */}}
{{- define "taidon.postgresql.fullname" -}}
{{- printf "%s-postgresql" (include "taidon.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The Secret with the bundled PostgreSQL's password: the given one, else the chart's. */}}
{{- define "taidon.postgresql.secretName" -}}
{{- default (include "taidon.postgresql.fullname" .) .Values.controlPlane.bundled.existingSecret }}
{{- end }}

{{/* Renders a value as a quoted string, for an environment variable or a quantity (large integers stay integers). */}}
{{- define "taidon.envValue" -}}
{{- if kindIs "float64" . }}
{{- int64 . | toString | quote }}
{{- else }}
{{- toString . | quote }}
{{- end }}
{{- end }}

{{/* The namespace of the student instances with runtime kubernetes: instances.namespace, or <release namespace>-instances. */}}
{{- define "taidon.instancesNamespace" -}}
{{- default (printf "%s-instances" .Release.Namespace) .Values.instances.namespace | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* How the Kubernetes runtime keeps layers: instances.layers, else snapshots with a VolumeSnapshotClass and archives without. */}}
{{- define "taidon.layers" -}}
{{- .Values.instances.layers | default (ternary "snapshots" "archives" (not (empty .Values.instances.volumeSnapshotClassName))) }}
{{- end }}

{{/* The claim of the archive layers, in the instances' namespace. */}}
{{- define "taidon.layersClaim" -}}
{{- printf "%s-layers" (include "taidon.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The instances' image (the app's Taidon__Kubernetes__InstanceImage, and the pre-puller's). */}}
{{- define "taidon.instanceImage" -}}
{{- include "taidon.imageRef" (dict "root" . "image" .Values.instances.image "tag" .Values.instances.image.tag) }}
{{- end }}

{{/* Labels the Kubernetes runtime puts on every instance pod: what the instances' NetworkPolicy selects. */}}
{{- define "taidon.instanceSelectorLabels" -}}
app.kubernetes.io/name: taidon-instance
app.kubernetes.io/managed-by: taidon
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Mount the service account's token in the app's pod: the Kubernetes runtime calls the API with it. */}}
{{- define "taidon.automountToken" -}}
{{- or .Values.serviceAccount.automount (eq .Values.runtime "kubernetes") }}
{{- end }}

{{/* Stops the release on combinations the schema cannot express or that it may not have checked. */}}
{{- define "taidon.validate" -}}
{{- if not (has .Values.runtime (list "embedded" "kubernetes")) }}
{{- fail (printf "runtime %q is unknown: use \"embedded\" or \"kubernetes\"." .Values.runtime) }}
{{- end }}
{{- if gt (int .Values.replicaCount) 1 }}
{{- if ne .Values.runtime "kubernetes" }}
{{- fail (printf "replicaCount %d needs runtime kubernetes: with runtime embedded the instances and the snapshot layers are processes and files of the one pod. Set replicaCount to 1, or runtime to kubernetes." (int .Values.replicaCount)) }}
{{- end }}
{{- if eq .Values.controlPlane.mode "embedded" }}
{{- fail (printf "replicaCount %d needs the control-plane database outside the app's pods: controlPlane.mode embedded runs it inside the one pod's data directory. Set controlPlane.mode to bundled or external." (int .Values.replicaCount)) }}
{{- end }}
{{- if not (include "taidon.sharedData" .) }}
{{- $wanted := "persistence.accessModes [ReadWriteMany] and a persistence.storageClass that provides it (NFS, CephFS, Longhorn RWX), or persistence.existingClaim with persistence.shared: true" }}
{{- if not .Values.persistence.enabled }}
{{- fail (printf "replicaCount %d needs the data volume shared, so that every pod sees the same projects, and persistence.enabled is false (each pod would have an emptyDir and projects of its own): set persistence.enabled to true, with %s." (int .Values.replicaCount) $wanted) }}
{{- else if .Values.persistence.existingClaim }}
{{- fail (printf "replicaCount %d needs the data volume shared, so that every pod sees the same projects: persistence.existingClaim %q is not said to be shared. If that claim is ReadWriteMany, set persistence.shared: true; otherwise use a claim that is." (int .Values.replicaCount) .Values.persistence.existingClaim) }}
{{- else }}
{{- fail (printf "replicaCount %d needs the data volume shared, so that every pod sees the same projects, and persistence.accessModes is %s: set %s." (int .Values.replicaCount) (toJson .Values.persistence.accessModes) $wanted) }}
{{- end }}
{{- end }}
{{- end }}
{{- with (.Values.lifecycle | default dict).preStopSleepSeconds }}
{{- if ge (int .) (int $.Values.terminationGracePeriodSeconds) }}
{{- fail (printf "lifecycle.preStopSleepSeconds (%d) must be less than terminationGracePeriodSeconds (%d): the grace period holds the sleep and then the app's own stop." (int .) (int $.Values.terminationGracePeriodSeconds)) }}
{{- end }}
{{- end }}
{{- if eq .Values.runtime "kubernetes" }}
{{- $layers := include "taidon.layers" . }}
{{- if not (has $layers (list "snapshots" "archives")) }}
{{- fail (printf "instances.layers %q is unknown: use \"snapshots\" (CSI VolumeSnapshots) or \"archives\" (a claim of archives, any StorageClass)." $layers) }}
{{- end }}
{{- if and (eq $layers "snapshots") (not .Values.instances.volumeSnapshotClassName) }}
{{- fail "runtime is kubernetes with instances.layers snapshots: set instances.volumeSnapshotClassName to the VolumeSnapshotClass of the instances' CSI driver (minikube: csi-hostpath-snapclass), or instances.layers to archives on a cluster without CSI snapshots." }}
{{- end }}
{{- /* Installed (not rendered alone): the cluster's APIs are known. */}}
{{- if and (eq $layers "snapshots") (lookup "v1" "Service" "default" "kubernetes") (not (.Capabilities.APIVersions.Has "snapshot.storage.k8s.io/v1")) }}
{{- fail "instances.layers is snapshots and this cluster has no snapshot.storage.k8s.io/v1 API (no CSI snapshots: k3s's local-path, many on-premises clusters). Set instances.layers to archives (see instances.archives), or install the snapshot CRDs and a CSI driver that takes snapshots." }}
{{- end }}
{{- if eq (include "taidon.instancesNamespace" .) .Release.Namespace }}
{{- fail (printf "instances.namespace is the release's namespace %q: give the instances a namespace of their own (its quota, limits and policy are meant for them alone)." .Release.Namespace) }}
{{- end }}
{{- end }}
{{- if and (eq .Values.controlPlane.mode "external") (not .Values.controlPlane.external.existingSecret) }}
{{- fail "controlPlane.mode is external: set controlPlane.external.existingSecret to the Secret that holds the connection string." }}
{{- end }}
{{- if .Values.networkPolicy.enabled }}
{{- if and (eq .Values.runtime "kubernetes") (not (include "taidon.kubernetesApi" . | fromJsonArray)) }}
{{- fail "runtime is kubernetes and networkPolicy.enabled: the app's pod may reach only the API server's addresses, and none were found (rendered without a cluster). Set networkPolicy.kubernetesApi, e.g. [{cidr: 192.168.49.2/32, ports: [8443]}] from `kubectl get endpoints kubernetes -n default`." }}
{{- end }}
{{- if and (eq .Values.controlPlane.mode "external") (not .Values.networkPolicy.controlPlane) }}
{{- fail "controlPlane.mode is external and networkPolicy.enabled: set networkPolicy.controlPlane to the database's addresses and port, e.g. [{cidr: 10.0.5.10/32, ports: [5432]}]." }}
{{- end }}
{{- if and .Values.taidon.oidc.authority (not .Values.networkPolicy.oidc) }}
{{- fail "taidon.oidc.authority is set and networkPolicy.enabled: set networkPolicy.oidc to the provider's addresses and ports, e.g. [{cidr: 203.0.113.0/24, ports: [443]}]." }}
{{- end }}
{{- end }}
{{- end }}

{{/* The cloud metadata address (169.254.169.254): no ipBlock the chart renders reaches it. */}}
{{- define "taidon.metadataAddress" -}}169.254.169.254/32{{- end }}

{{/*
An ipBlock peer for a dict {cidr, except}: an IPv4 network that holds the cloud metadata address gets it
as one more exception (Kubernetes refuses an exception outside the network, so only there). A network
that is that address alone is refused.
*/}}
{{- define "taidon.ipBlock" -}}
{{- $cidr := .cidr }}
{{- $except := .except | default list }}
{{- if not (contains ":" $cidr) }}
{{- $parts := splitList "/" $cidr }}
{{- $bits := int (index $parts 1) }}
{{- $address := 0 }}
{{- range (splitList "." (index $parts 0)) }}
{{- $address = add (mul $address 256) (int .) }}
{{- end }}
{{- $metadata := 2852039166 }}{{/* 169.254.169.254 as a number */}}
{{- $size := 1 }}
{{- range until (sub 32 $bits | int) }}
{{- $size = mul $size 2 }}
{{- end }}
{{- if eq (div $address $size) (div $metadata $size) }}
{{- if eq $bits 32 }}
{{- fail (printf "networkPolicy: %s is the cloud metadata address, which the app never reaches." $cidr) }}
{{- end }}
{{- if not (has (include "taidon.metadataAddress" $) $except) }}
{{- $except = append $except (include "taidon.metadataAddress" $) }}
{{- end }}
{{- end }}
{{- end }}
ipBlock:
  cidr: {{ $cidr }}
  {{- with $except }}
  except:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
The egress rules to a list of {cidr, except, ports} (TCP), one rule per entry. The argument is the list.
*/}}
{{- define "taidon.ipBlockRules" -}}
{{- range . }}
- to:
    - {{ include "taidon.ipBlock" . | trim | nindent 6 | trim }}
  ports:
    {{- range .ports }}
    - protocol: TCP
      port: {{ . }}
    {{- end }}
{{- end }}
{{- end }}

{{/*
The Kubernetes API server's addresses as a JSON list of {cidr, ports}: networkPolicy.kubernetesApi, else
looked up in the cluster at install (the Endpoints and the ClusterIP of the Service default/kubernetes;
nothing when rendered without a cluster).
*/}}
{{- define "taidon.kubernetesApi" -}}
{{- $blocks := .Values.networkPolicy.kubernetesApi | default list }}
{{- if not $blocks }}
{{- $endpoints := lookup "v1" "Endpoints" "default" "kubernetes" | default dict }}
{{- range $subset := $endpoints.subsets | default list }}
{{- $ports := list }}
{{- range $subset.ports | default list }}
{{- $ports = append $ports .port }}
{{- end }}
{{- range $subset.addresses | default list }}
{{- $blocks = append $blocks (dict "cidr" (printf "%s/%s" .ip (ternary "128" "32" (contains ":" .ip))) "ports" $ports) }}
{{- end }}
{{- end }}
{{- $service := lookup "v1" "Service" "default" "kubernetes" | default dict }}
{{- with ($service.spec | default dict).clusterIP }}
{{- $ports := list }}
{{- range $service.spec.ports | default list }}
{{- $ports = append $ports .port }}
{{- end }}
{{- $blocks = append $blocks (dict "cidr" (printf "%s/%s" . (ternary "128" "32" (contains ":" .))) "ports" $ports) }}
{{- end }}
{{- end }}
{{- toJson $blocks }}
{{- end }}
