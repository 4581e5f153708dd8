package stsstub

import (
	"encoding/xml"
	"net/http"
	"sort"
	"strings"
	"time"
)

// This file is the IAM side, as much as access key rotation needs:
// CreateAccessKey, DeleteAccessKey and ListAccessKeys of the caller's own
// IAM user, in the Query protocol (Version 2010-05-08), signed for the
// service "iam". Clients reach it through AWS_ENDPOINT_URL_IAM.

// IAMNamespace is the XML namespace of IAM responses.
const IAMNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"

// iamActions are the IAM actions the stub serves.
var iamActions = map[string]bool{"CreateAccessKey": true, "DeleteAccessKey": true, "ListAccessKeys": true}

// maxKeysPerUser is IAM's quota of access keys per user.
const maxKeysPerUser = 2

// SetIAMLag makes each access key CreateAccessKey makes from now on
// refused for d (InvalidClientTokenId), as IAM's eventual consistency
// does for a few seconds; 0 restores at once.
func (s *Server) SetIAMLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.iamLag = d
}

// AccessKeys are the access key ids of the IAM user arn, sorted.
func (s *Server) AccessKeys(arn string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userKeysLocked(arn)
}

func (s *Server) userKeysLocked(arn string) []string {
	var ids []string
	for id, p := range s.keys {
		if p.kind == kindUser && p.arn == arn {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

type accessKeyXML struct {
	UserName        string `xml:"UserName"`
	AccessKeyID     string `xml:"AccessKeyId"`
	Status          string `xml:"Status"`
	SecretAccessKey string `xml:"SecretAccessKey,omitempty"`
	CreateDate      string `xml:"CreateDate"`
}

type createAccessKeyResponse struct {
	XMLName xml.Name `xml:"CreateAccessKeyResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		AccessKey accessKeyXML `xml:"AccessKey"`
	} `xml:"CreateAccessKeyResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type deleteAccessKeyResponse struct {
	XMLName  xml.Name         `xml:"DeleteAccessKeyResponse"`
	Xmlns    string           `xml:"xmlns,attr"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type listAccessKeysResponse struct {
	XMLName xml.Name `xml:"ListAccessKeysResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Members     []accessKeyXML `xml:"AccessKeyMetadata>member"`
		IsTruncated bool           `xml:"IsTruncated"`
	} `xml:"ListAccessKeysResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

// userName is the IAM user name of an IAM user ARN.
func userName(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

// iam carries out an IAM action for p, who must be an IAM user acting on
// their own keys.
func (s *Server) iam(p principal, action string, params map[string][]string, meta responseMetadata) (any, *apiError) {
	if p.kind != kindUser || !strings.Contains(p.arn, ":user/") {
		return nil, accessDenied("stsstub: only an IAM user's long-term key may manage access keys")
	}
	get := func(k string) string {
		if v := params[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if u := get("UserName"); u != "" && u != userName(p.arn) {
		return nil, accessDenied("User: " + p.arn + " is not authorized to perform: iam:" + action + " on resource: user " + u)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	switch action {
	case "CreateAccessKey":
		if len(s.userKeysLocked(p.arn)) >= maxKeysPerUser {
			return nil, &apiError{http.StatusConflict, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2"}
		}
		id := "AKIA" + randomString(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
		secret := randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+")
		np := p
		np.secret, np.created, np.notBefore = secret, now, now.Add(s.iamLag)
		if s.iamLag == 0 {
			np.notBefore = time.Time{}
		}
		s.keys[id] = &np
		r := &createAccessKeyResponse{Xmlns: IAMNamespace, Metadata: meta}
		r.Result.AccessKey = accessKeyXML{UserName: userName(p.arn), AccessKeyID: id, Status: "Active", SecretAccessKey: secret, CreateDate: now.UTC().Format(time.RFC3339)}
		return r, nil
	case "DeleteAccessKey":
		id := get("AccessKeyId")
		if q, ok := s.keys[id]; !ok || q.kind != kindUser || q.arn != p.arn {
			return nil, &apiError{http.StatusNotFound, "NoSuchEntity", "The Access Key with id " + id + " cannot be found."}
		}
		delete(s.keys, id)
		return &deleteAccessKeyResponse{Xmlns: IAMNamespace, Metadata: meta}, nil
	}
	r := &listAccessKeysResponse{Xmlns: IAMNamespace, Metadata: meta}
	for _, id := range s.userKeysLocked(p.arn) {
		r.Result.Members = append(r.Result.Members, accessKeyXML{UserName: userName(p.arn), AccessKeyID: id, Status: "Active",
			CreateDate: s.keys[id].created.UTC().Format(time.RFC3339)})
	}
	return r, nil
}
