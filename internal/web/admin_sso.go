package web

import "net/http"

func (s *server) authenticationPage(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *server) ssoNewPage(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *server) ssoCreate(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *server) ssoOverview(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *server) ssoSetupPage(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *server) ssoConnectPage(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *server) ssoConnectSave(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *server) ssoMetadataImport(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *server) ssoTestPage(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *server) ssoEnablePage(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *server) ssoEnable(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *server) ssoDisable(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *server) ssoDeletePage(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *server) ssoDelete(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *server) certificateInfo(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
